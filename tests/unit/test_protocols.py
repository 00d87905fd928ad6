"""Which HTTP protocol and event loop serve: httptools and uvloop where they installed, else h11 on
asyncio's own loop (a platform where no wheel exists still runs the emulator)."""

from __future__ import annotations

import builtins

import pytest

from mesibo_mock.server import guards, serving


def refuse_import(monkeypatch, name: str) -> None:
    real = builtins.__import__

    def fake(module, *args, **kwargs):
        if module == name or module.startswith(name + "."):
            raise ImportError(f"no module named {name!r}")
        return real(module, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)


def test_auto_takes_httptools_where_it_installed():
    assert guards.protocol_kind("auto") == "httptools"
    assert serving.event_loop_factory("httptools") is not None


def test_auto_falls_back_to_h11_without_httptools(monkeypatch):
    refuse_import(monkeypatch, "httptools")
    assert guards.protocol_kind("auto") == "h11"
    assert guards.protocol_kind("httptools") == "httptools"  # asked for by name: uvicorn says why not


def test_h11_runs_on_asyncios_own_loop_and_uvloop_is_optional(monkeypatch):
    assert serving.event_loop_factory("h11") is None
    refuse_import(monkeypatch, "uvloop")
    assert serving.event_loop_factory("httptools") is None


@pytest.mark.parametrize("kind", ["httptools", "h11"])
def test_both_protocols_carry_the_deadlines(kind):
    protocol = guards.guarded_protocol(1.0, 1.0, kind=kind)
    name = "HttpToolsProtocol" if kind == "httptools" else "H11Protocol"
    base = next(cls for cls in protocol.__mro__ if cls.__name__ == name)
    for method in ("connection_made", "on_response_complete", "send_400_response"):
        assert getattr(protocol, method) is not getattr(base, method), method
