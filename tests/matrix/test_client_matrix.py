"""The client matrix in the suite: every client at its defaults, on each protocol, each of its four
calls answered as sent (SPEC section 11). A client whose runtime is missing here skips; CI sets
MESIBO_MOCK_REQUIRE_MATRIX=1, which makes that a failure."""

from __future__ import annotations

import os

import pytest

from mesibo_mock.testing import MesiboMock
from tests.matrix import CLIENTS, PROTOCOLS, build, missing, run

TOKEN = "matrix-token"


@pytest.fixture(scope="module", params=PROTOCOLS)
def server(request):
    with MesiboMock(subprocess=True, app_token=TOKEN, env={"MESIBO_MOCK_HTTP": request.param}) as mock:
        yield request.param, mock


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("matrix-build")
    for kind in sorted({c.build for c in CLIENTS if c.build and missing(c) is None}):
        build(kind, folder)
    return folder


@pytest.mark.parametrize("client", CLIENTS, ids=[c.name for c in CLIENTS])
def test_every_call_of_a_client_at_its_defaults_is_answered_as_sent(server, built, client):
    why = missing(client)
    if why is not None:
        if os.environ.get("MESIBO_MOCK_REQUIRE_MATRIX") == "1":
            pytest.fail(f"{client.label}: {why} (MESIBO_MOCK_REQUIRE_MATRIX=1)")
        pytest.skip(f"{client.label}: {why}")
    protocol, mock = server
    problems = run(client, mock.backend_url, TOKEN, f"{client.name}-{protocol}", built)
    assert not problems, f"{client.label} on {protocol}: " + "; ".join(problems)
