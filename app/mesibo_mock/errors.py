"""Mesibo's error codes and the response envelope (SPEC section 2): one row per error, so no op ever
writes a status number or an action by hand."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

BADPAYLOAD = "BADPAYLOAD"
MISSINGPARAMS = "MISSINGPARAMS"
AUTHFAIL = "AUTHFAIL"
BADVALUE = "BADVALUE"
BADREQ = "BADREQ"
RATELIMITED = "RATELIMITED"
BADORIGIN = "BADORIGIN"


@dataclass(frozen=True)
class ErrorKind:
    code: int  # an HTTP status number, carried in the body; the HTTP answer itself stays 200
    action: str


# The actions of MISSINGPARAMS and BADVALUE are Mesibo's own words (the on-premise backend's table).
ERRORS: dict[str, ErrorKind] = {
    BADPAYLOAD: ErrorKind(400, "Send the request as a JSON object, form fields or a query string"),
    MISSINGPARAMS: ErrorKind(
        400, "Refer to the mesibo backend API documentation to learn about required parameters"
    ),
    BADVALUE: ErrorKind(
        400,
        "Refer to the mesibo backend API documentation to learn about required parameters and expected values",
    ),
    AUTHFAIL: ErrorKind(
        401, "Use the app token from the mesibo console (the emulator lists them at /_mock/apps)"
    ),
    BADREQ: ErrorKind(400, "Fix the request so that its fields agree with each other"),
    RATELIMITED: ErrorKind(503, "Wait retry_after seconds before trying again"),
    BADORIGIN: ErrorKind(502, "Invoke the backend API from your own server, never from a client app"),
}

# Texts the real backend gives word for word (SPEC section 2).
NOT_JSON_CAUSE = "The input request is not a valid JSON object"
UNKNOWN_OP_CAUSE = (
    "Invalid API method (op) received. Refer to the mesibo backend API documentation to learn more."
)
AUTHFAIL_CAUSE = "Invalid or expired app token"
BOTH_UID_AND_ADDRESS_CAUSE = "Both uid and address are specified"
BOTH_UID_AND_ADDRESS_ACTION = "Specify either uid or address"
TESTPUSH_LIMIT_CAUSE = (
    "This OP is for testing only and hence rate limited. However, if you are using on-premise, "
    "you can host the backend and no such limit will apply"
)
BADORIGIN_CAUSE = (
    "The backend API MUST NOT be invoked from the client. "
    "Refer to the Security Note in the backend API documentation"
)


class MesiboError(Exception):
    """A refusal that becomes `{"result": false, "error", "code", "cause", "action", ...}`.

    `properties` may be given as dotted paths (`push.address`); the envelope carries the bare names.
    """

    def __init__(
        self,
        error: str,
        cause: str,
        properties: Iterable[str] | None = None,
        *,
        code: int | None = None,
        action: str | None = None,
        retry_after: int | None = None,
        http_status: int = 200,
    ) -> None:
        super().__init__(cause)
        kind = ERRORS[error]
        self.error = error
        self.code = kind.code if code is None else code
        self.cause = cause
        self.action = kind.action if action is None else action
        self.properties = [p.rsplit(".", 1)[-1] for p in properties] if properties is not None else None
        self.retry_after = retry_after
        self.http_status = http_status


class SeedError(Exception):
    """One line saying what is wrong with the seed file (the CLI exits 2 with it)."""


def missing(*names: str) -> MesiboError:
    listed = " or ".join(f"'{n}'" for n in names)
    return MesiboError(MISSINGPARAMS, f"missing required parameter {listed}", names)


def bad_value(name: str, why: str) -> MesiboError:
    return MesiboError(BADVALUE, f"'{name}' {why}", [name])


def both_uid_and_address() -> MesiboError:
    return MesiboError(
        BADREQ, BOTH_UID_AND_ADDRESS_CAUSE, ["uid", "address"], action=BOTH_UID_AND_ADDRESS_ACTION
    )


def echoed_id(value: Any) -> int | None:
    """Only a whole number other than 0 (a JSON number or a string of digits) is echoed, as a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif (
        isinstance(value, float)
        and value.is_integer()
        or isinstance(value, str)
        and value.isascii()
        and value.isdigit()
        and len(value) <= 30
    ):
        number = int(value)
    else:
        return None
    return number if number > 0 else None


def envelope(op: Any, request_id: Any = None, *, error: MesiboError | None = None, **fields: Any) -> dict:
    body: dict[str, Any] = {"op": op if isinstance(op, str) else None, "result": error is None}
    echoed = echoed_id(request_id) if request_id is not None else None
    if echoed is not None:
        body["id"] = echoed
    if error is not None:
        body["error"] = error.error
        body["code"] = error.code
        body["cause"] = error.cause
        body["action"] = error.action
        if error.properties is not None:
            body["properties"] = error.properties
        if error.retry_after is not None:
            body["retry_after"] = error.retry_after
    else:
        body.update(fields)
    return body
