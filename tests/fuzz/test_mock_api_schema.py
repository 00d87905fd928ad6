"""Schemathesis over the /_mock OpenAPI schema (the app in process, through ASGI): no server errors, and every answer
matches the model the OpenAPI document describes."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from mesibo_mock.lifecycle import build_runtime
from mesibo_mock.main import create_app
from mesibo_mock.server.settings import Settings

runtime = build_runtime(Settings(db=":memory:", app_token="schema-token", log_level="warning"))
app = create_app(runtime)
schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex="^/_mock/")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_mock_api_has_no_server_errors(case):
    if case.query and "wait" in case.query:
        case.query["wait"] = 0  # a long poll would only make the run slow
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
