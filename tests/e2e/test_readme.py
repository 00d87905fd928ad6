"""The README and the reference pages run as written: their shell examples, replayed in order with curl
against a fresh server per page, answer exactly what the page prints (ignoring only tokens, ids and
times); and no example resets a store it did not create."""

from __future__ import annotations

import re
import shutil

import pytest

from tests import readme_replay


@pytest.mark.parametrize("page", readme_replay.PAGES, ids=lambda p: p.name)
def test_the_examples_answer_what_the_page_shows(page):
    if shutil.which("curl") is None:
        pytest.fail("the replay needs curl (apt-get install curl)")
    steps = readme_replay.steps(page=page)
    assert sum(step.expected is not None for step in steps) >= (5 if page.name == "README.md" else 12)
    problems = [p for step, out in readme_replay.replay(page) if (p := readme_replay.compare(step, out))]
    assert not problems, "\n".join(problems)


SHARED_STORE_WIPES = re.compile(r"_mock/reset")


def expanded(command: str) -> str:
    return command.replace("${M}", "/_mock").replace("$M", "/_mock")


def test_no_example_resets_a_store_it_did_not_create():
    """An example is pointed at the reader's own server: it must leave their users, groups and credentials
    alone (make an app of its own, and delete it after). Only code that starts its own server (the
    pytest fixture, MesiboMock) may reset it."""
    offenders = []
    for page in readme_replay.PAGES:
        for step in readme_replay.steps(page=page):
            if SHARED_STORE_WIPES.search(expanded(step.command)):
                offenders.append(f"{page.name} line {step.line}: {step.command}")
    for path in (readme_replay.ROOT / "examples").rglob("*"):
        if (
            path.is_file()
            and "node_modules" not in path.parts  # an example's installed dependencies are not its code
            and path.suffix in (".sh", ".mjs", ".js", ".py")
            and SHARED_STORE_WIPES.search(path.read_text())
        ):
            offenders.append(str(path.relative_to(readme_replay.ROOT)))
    for path in (readme_replay.ROOT / "docker").iterdir():
        if path.is_file() and SHARED_STORE_WIPES.search(path.read_text()):
            offenders.append(str(path.relative_to(readme_replay.ROOT)))
    assert offenders == []


def test_the_checks_above_would_catch_an_offender():
    assert SHARED_STORE_WIPES.search(expanded("curl -s -X POST $M/reset"))
    assert readme_replay.printed_answer('# {"op":"x"}') == '{"op":"x"}'
    assert readme_replay.printed_answer("# 502") == "502"
    assert readme_replay.printed_answer("# pushset: any subset of the options") is None


def test_the_replay_would_catch_a_drift():
    """The comparison is not vacuous: a changed value, a missing field and a wrong error all differ."""
    step = readme_replay.Step("curl ...", '{"op":"pushset","result":true,"push":{"sound":true}}', 1)
    assert readme_replay.compare(step, '{"op":"pushset","result":true,"push":{"sound":true}}') is None
    assert readme_replay.compare(step, '{"op":"pushset","result":true,"push":{"sound":false}}')
    assert readme_replay.compare(step, '{"op":"pushset","result":true,"push":{}}')
    assert readme_replay.compare(step, '{"op":"pushset","result":false,"error":"AUTHFAIL"}')
    timed = readme_replay.Step("x", '{"ts":"2026-01-01T00:00:00.000Z","token":"abc","uid":1}', 1)
    assert readme_replay.compare(timed, '{"ts":"2027-05-05T10:10:10.123Z","token":"zzz","uid":7}') is None


PROMISING_PAGES = (
    "README.md",
    "docs/clients.md",
    "clients/node/README.md",
    "clients/php/README.md",
    "clients/java/README.md",
)
# a time or a ratio a newcomer would measure: "0.3 s", "0.3 to 0.5 s", "2 ms", "1.2x", "1.3×"
FIGURE = re.compile(r"\b(\d+(?:\.\d+)?(?: to \d+(?:\.\d+)?)? ?(?:ms|µs|s|x|×))(?![\w/])")


def prose(text: str) -> str:
    """A page without its code blocks and tables (settings' units and examples' output are not promises)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("|"))


def test_the_pages_promise_only_what_a_newcomer_sees(tmp_path):
    """Issue 40, friction 6: the README's check shows one backend call, not four; every time or ratio
    a page promises is one that bench/ measures (docs/benchmark.md holds its figures); the recorder's
    page says what a suite built on the helpers meets there."""
    import subprocess

    from mesibo_mock.testing import MesiboMock

    readme = (readme_replay.ROOT / "README.md").read_text()
    assert "four" not in readme.split("Requests tab")[1][:60]
    assert "its Requests tab shows the check's backend\ncall, a `pushtest`" in readme
    with MesiboMock() as mock:
        done = subprocess.run(
            ["bash", str(readme_replay.ROOT / "examples" / "shell" / "pushtest.sh")],
            env={"PATH": "/usr/bin:/bin", "MESIBO_URL": mock.url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        calls = mock.requests(all_apps=True)
        assert [c["op"] for c in calls] == ["pushtest"]  # what the Requests tab shows: one call
    measured = (readme_replay.ROOT / "docs" / "benchmark.md").read_text()
    for name in PROMISING_PAGES:
        figures = FIGURE.findall(prose((readme_replay.ROOT / name).read_text()))
        unmeasured = [f for f in figures if f not in measured]
        assert not unmeasured, (
            f"{name} promises {unmeasured}, which docs/benchmark.md (bench/'s figures) does not show"
        )
    fidelity = (readme_replay.ROOT / "docs" / "fidelity.md").read_text()
    assert "(or its test suite)" not in fidelity and "answer 404 there" in fidelity
