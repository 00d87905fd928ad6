"""The server's own output is for its user: after every /_mock module has declared its routes and each
body model has read a request, it holds the ready line and the token line, and no Python warning (a
pydantic or FastAPI one, as an earlier build of the body models printed at every start)."""

from __future__ import annotations

from mesibo_mock.testing import MesiboMock


def test_every_mock_module_used_once_leaves_no_warning_in_the_servers_log():
    with MesiboMock(subprocess=True) as mock:
        with mock.create_app("clean log", credentials="sample") as app:
            app.register_device("ann")
            app.set_online("ann", False)
            app.set_webhook("http://127.0.0.1:9/hook")
            app.inject_fault("UNREGISTERED", address="ann")
            app.backend_fault(op="pushtest", error="AUTHFAIL")
            app.backend("groupadd", group={"name": "g", "members": {"m": "ann"}})
            app.pushes()
            app.mistakes()
            app.advance(5)
            assert mock.samples() and mock.client.get("/_mock/ui").status_code == 200
        log = mock.logs()
    assert "mesibo-mock ready" in log
    assert "Warning" not in log and "warnings.warn" not in log, log
