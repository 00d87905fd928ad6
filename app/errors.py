"""Mesibo's error codes and the response envelope (SPEC section 2)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

BADPAYLOAD = "BADPAYLOAD"
MISSINGPARAMS = "MISSINGPARAMS"
BADOP = "BADOP"
AUTHFAIL = "AUTHFAIL"
BADVALUE = "BADVALUE"
BADREQ = "BADREQ"
RATELIMITED = "RATELIMITED"


class MesiboError(Exception):
    """A refusal that becomes `{"result": false, "error", "cause", ...}`."""

    def __init__(
        self,
        code: str,
        cause: str,
        properties: Iterable[str] | None = None,
        *,
        retry_after: int | None = None,
        http_status: int = 200,
    ) -> None:
        super().__init__(cause)
        self.code = code
        self.cause = cause
        self.properties = list(properties) if properties is not None else None
        self.retry_after = retry_after
        self.http_status = http_status


class SeedError(Exception):
    """One line saying what is wrong with the seed file (the CLI exits 2 with it)."""


def missing(*names: str) -> MesiboError:
    listed = " or ".join(f"'{n}'" for n in names)
    return MesiboError(MISSINGPARAMS, f"missing required parameter {listed}", names)


def bad_value(name: str, why: str) -> MesiboError:
    return MesiboError(BADVALUE, f"'{name}' {why}", [name])


def envelope(op: Any, request_id: Any = None, *, error: MesiboError | None = None, **fields: Any) -> dict:
    body: dict[str, Any] = {"op": op if isinstance(op, str) else None, "result": error is None}
    if request_id is not None:
        body["id"] = request_id
    if error is not None:
        body["error"] = error.code
        body["cause"] = error.cause
        if error.properties is not None:
            body["properties"] = error.properties
        if error.retry_after is not None:
            body["retry_after"] = error.retry_after
    else:
        body.update(fields)
    return body
