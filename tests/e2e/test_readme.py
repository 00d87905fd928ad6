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
