"""The /_mock routes declared in the background after the ready line (main.warm_up) give way to the
requests being answered: declaring a module holds the interpreter for up to 20 ms, and a test file's
first app would otherwise share it with all of them."""

from __future__ import annotations

import asyncio

import pytest

from mesibo_mock import main
from mesibo_mock.lifecycle import build_runtime
from mesibo_mock.main import IncludeOnFirstUse, create_app, warm_up
from mesibo_mock.mock_api.routes import MODULES
from mesibo_mock.server.settings import Settings


def fresh_api():
    return create_app(build_runtime(Settings(db=":memory:", app_token="warm-token", log_level="warning")))


def test_the_warm_up_waits_while_a_mock_request_is_answered_and_then_declares_every_module():
    api = fresh_api()
    api.state.mock_idle.clear()  # as IncludeOnFirstUse leaves it while a /_mock request is answered
    thread = warm_up(api)
    thread.join(0.3)
    assert thread.is_alive() and api.state.mock_modules == set()
    api.state.mock_idle.set()  # the answer went out
    thread.join(30)
    assert not thread.is_alive() and api.state.mock_modules == set(MODULES.values())


def test_a_mock_request_holds_the_warm_up_back_until_its_answer_and_declares_its_own_module_first(
    monkeypatch,
):
    api = fresh_api()
    seen = {}
    include = main.include_mock_routes

    def watched(api, path=""):
        seen["idle while declaring"] = api.state.mock_idle.is_set()  # clear: the warm-up stops first
        include(api, path)

    monkeypatch.setattr(main, "include_mock_routes", watched)

    async def answer(scope, receive, send):
        seen["idle while answering"] = api.state.mock_idle.is_set()
        seen["declared"] = set(api.state.mock_modules)

    guard = IncludeOnFirstUse(answer, api)
    asyncio.run(guard({"type": "http", "path": "/_mock/pushes"}, None, None))
    assert seen == {
        "idle while declaring": False,
        "idle while answering": False,
        "declared": {"mesibo_mock.mock_api.records"},
    }
    assert api.state.mock_idle.is_set()
    # a health check and a backend call neither wait for routes nor hold the warm-up back
    seen.clear()
    asyncio.run(guard({"type": "http", "path": "/_mock/health"}, None, None))
    assert seen == {"idle while answering": True, "declared": {"mesibo_mock.mock_api.records"}}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the broken one's
def test_the_warm_up_calls_then_once_every_module_is_declared_and_even_when_declaring_fails(monkeypatch):
    api = fresh_api()
    called = []
    thread = warm_up(api, then=lambda: called.append(set(api.state.mock_modules)))
    thread.join(30)
    assert called == [set(MODULES.values())]

    def broken(api, path=""):
        raise RuntimeError("a route that cannot be declared")

    monkeypatch.setattr(main, "include_mock_routes", broken)
    called.clear()
    thread = warm_up(fresh_api(), then=lambda: called.append("then"))
    thread.join(30)
    assert called == ["then"]  # the collector is turned back on whatever happened


def test_the_collector_comes_back_on_in_time_even_while_mock_requests_hold_the_warm_up_back(monkeypatch):
    import gc

    from mesibo_mock import cli

    monkeypatch.setattr(cli, "COLLECTOR_OFF_AT_MOST", 0.05)
    api = fresh_api()
    api.state.mock_idle.clear()  # a /_mock request is being answered, and another, and another
    gc.disable()
    try:

        async def after_ready():
            thread = cli.finish_start(api, asyncio.get_running_loop())
            await asyncio.sleep(0.01)
            off_at_first = not gc.isenabled()
            await asyncio.sleep(0.2)
            return thread, off_at_first, gc.isenabled(), gc.get_freeze_count()

        thread, off_at_first, on_later, frozen = asyncio.run(after_ready())
        assert off_at_first and on_later and frozen > 0
        assert thread.is_alive()  # still waiting for its turn: the collector did not wait for it
    finally:
        api.state.mock_idle.set()
        gc.unfreeze()
        gc.enable()
