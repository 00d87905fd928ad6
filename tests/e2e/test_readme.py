"""The README runs as written: its shell examples, replayed in order with curl against a fresh server,
answer exactly what the README prints (ignoring only tokens, ids and times)."""

from __future__ import annotations

import shutil

import pytest

from mesibo_mock.testing import MesiboMock
from tests import readme_replay


def test_the_readme_examples_answer_what_the_readme_shows():
    if shutil.which("curl") is None:
        pytest.fail("the README replay needs curl (apt-get install curl)")
    steps = readme_replay.steps()
    assert sum(step.expected is not None for step in steps) >= 30  # the README shows its answers
    problems = []
    with MesiboMock(subprocess=True, app_token=None) as mock:  # fresh, as a newcomer's server is
        for step in steps:
            out = readme_replay.run(step, mock.url, mock.app_token, readme_replay.README.parent)
            problem = readme_replay.compare(step, out)
            if problem:
                problems.append(problem)
    assert not problems, "\n".join(problems)


def test_the_replay_would_catch_a_drift():
    """The comparison is not vacuous: a changed value, a missing field and a wrong error all differ."""
    step = readme_replay.Step("curl ...", '{"op":"pushset","result":true,"push":{"sound":true}}', 1)
    assert readme_replay.compare(step, '{"op":"pushset","result":true,"push":{"sound":true}}') is None
    assert readme_replay.compare(step, '{"op":"pushset","result":true,"push":{"sound":false}}')
    assert readme_replay.compare(step, '{"op":"pushset","result":true,"push":{}}')
    assert readme_replay.compare(step, '{"op":"pushset","result":false,"error":"AUTHFAIL"}')
    timed = readme_replay.Step("x", '{"ts":"2026-01-01T00:00:00.000Z","token":"abc","uid":1}', 1)
    assert readme_replay.compare(timed, '{"ts":"2027-05-05T10:10:10.123Z","token":"zzz","uid":7}') is None
