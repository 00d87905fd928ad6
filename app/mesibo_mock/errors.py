"""Mesibo's error table and the response envelope (SPEC section 2).

One row per error, read from the real backend's own table: its name, its code, its `cause` and its
`action` word for word (some rows have no action), and whether it lists `properties`. No op writes a
text or a number by hand. What the emulator can say more precisely (which field, which value, what
was expected) is the error's `problems`: it goes to the log line and the request journal, never into
Mesibo's envelope.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

LARGEST_ID = 2**63 - 1  # a 64-bit integer: the largest request id the envelope echoes


@dataclass(frozen=True)
class Row:
    error: str  # the name in the envelope's "error"
    code: int  # an HTTP status number, carried in the body; the HTTP answer itself stays 200
    cause: str
    action: str | None  # None: the real table gives this row no action, so the envelope has none
    properties: bool  # whether the envelope lists the fields at fault


ACTION_REQUIRED = "Refer to the mesibo backend API documentation to learn about required parameters"
ACTION_CORRECT = "Refer to the mesibo backend API documentation to learn about correct parameters"
ACTION_VALUES = (
    "Refer to the mesibo backend API documentation to learn about required parameters and expected values"
)
ACTION_COMBINATIONS = (
    "Refer to the mesibo backend API documentation to learn about required parameters, expected values, "
    "and combinations"
)
APPID_CAUSE = (
    "appid should be non-numeric and dotted (for example, com.example.xyz). For Android, it should be your "
    "Android package name declared in the AndroidManifest.xml. For iOS, it should be the bundle id declared "
    "in the Xcode project. For other platforms, make sure it is non-numeric and pass the same app id to the "
    "setAppName API function"
)
TESTPUSH_LIMIT_CAUSE = (
    "This OP is for testing only and hence rate limited. However, if you are using on-premise, "
    "you can host the backend and no such limit will apply"
)

# The keys are this module's names for the rows; two rows share the name BADVALUE and two BADREQ.
BADPAYLOAD = "BADPAYLOAD"
MISSINGPARAMS = "MISSINGPARAMS"
UNKNOWN_OP = "UNKNOWN_OP"
BADORIGIN = "BADORIGIN"
AUTHFAIL = "AUTHFAIL"
TOKENBREACH = "TOKENBREACH"
BADVALUE = "BADVALUE"
BADAPPID = "BADAPPID"
INVALIDVALUE = "INVALIDVALUE"
BADREQ = "BADREQ"
BOTH_UID_AND_ADDRESS = "BOTH_UID_AND_ADDRESS"
RATELIMITED = "RATELIMITED"
CREDITSEXCEEDED = "CREDITSEXCEEDED"
QUOTAEXCEEDED = "QUOTAEXCEEDED"
UNUSEDTRIALUSERS = "UNUSEDTRIALUSERS"

ROWS: dict[str, Row] = {
    BADPAYLOAD: Row("BADPAYLOAD", 400, "The input request is not a valid JSON object", None, False),
    MISSINGPARAMS: Row(
        "MISSINGPARAMS",
        400,
        "One or more required properties for this operation type are missing. Refer to the properties array "
        "in the response to learn more.",
        ACTION_REQUIRED,
        True,
    ),
    UNKNOWN_OP: Row(
        "BADVALUE",
        501,
        "Invalid API method (op) received. Refer to the mesibo backend API documentation to learn more.",
        ACTION_CORRECT,
        True,
    ),
    BADORIGIN: Row(
        "BADORIGIN",
        502,
        "The backend API MUST NOT be invoked from the client. Refer to the Security Note in the backend API "
        "documentation",
        None,
        False,
    ),
    AUTHFAIL: Row("AUTHFAIL", 401, "Invalid or expired app token", None, True),
    # [real: the word, beside AUTHFAIL in the binary; emu: its code and cause, which no source shows]
    TOKENBREACH: Row(
        "TOKENBREACH",
        401,
        "The app has been disabled because its token was used from more than five IP addresses. Refer to "
        "the Security Note in the backend API documentation",
        None,
        True,
    ),
    BADVALUE: Row(
        "BADVALUE",
        400,
        "One or more properties contain bad values. Refer to the properties array in the response to learn "
        "more.",
        ACTION_VALUES,
        True,
    ),
    BADAPPID: Row("BADVALUE", 400, APPID_CAUSE, "fix and send correct appid", True),
    INVALIDVALUE: Row(
        "INVALIDVALUE",
        400,
        "One or more properties contain invalid values. Refer to the properties array in the response to "
        "learn more.",
        ACTION_VALUES,
        True,
    ),
    BADREQ: Row("BADREQ", 400, "bad request", ACTION_COMBINATIONS, True),
    BOTH_UID_AND_ADDRESS: Row(
        "BADREQ", 400, "Both uid and address are specified", "Specify either uid or address", True
    ),
    RATELIMITED: Row("RATELIMITED", 503, TESTPUSH_LIMIT_CAUSE, None, False),
    CREDITSEXCEEDED: Row(
        "CREDITSEXCEEDED",
        402,
        "Your account credits have expired, or the free limit has been reached",
        "Login to the mesibo console to add the required credits to your account.",
        False,
    ),
    QUOTAEXCEEDED: Row("QUOTAEXCEEDED", 503, "You account resource limit(s) has been reached", None, False),
    UNUSEDTRIALUSERS: Row(
        "UNUSEDTRIALUSERS",
        503,
        "You have created many users using backend API but used only a few. Upgrade to a paid account to "
        "remove this restriction.",
        None,
        False,
    ),
}
# The rows a backend fault may be named by: the error names, each meaning its generic row.
BY_ERROR_NAME: dict[str, str] = {}
for _key, _row in ROWS.items():
    BY_ERROR_NAME.setdefault(_row.error, _key)
BY_ERROR_NAME["BADVALUE"] = BADVALUE  # not the unknown-op row, which happens to come first


class MesiboError(Exception):
    """A refusal: `{"result": false, "error", "code", "cause", "action"?, "properties"?}` from its row.

    `properties` may be given as dotted paths (`push.address`); the envelope carries the bare names.
    `problems` are the emulator's own explanation, `[{"field"?, "problem"}]`, for the log and the journal.
    """

    def __init__(
        self,
        row: str,
        problem: str | None = None,
        properties: Iterable[str] | None = None,
        *,
        field: str | None = None,
        problems: list[dict] | None = None,
        retry_after: int | None = None,
        http_status: int = 200,
    ) -> None:
        self.row = ROWS[row]
        super().__init__(problem or self.row.cause)
        self.error = self.row.error
        self.code = self.row.code
        self.cause = self.row.cause
        self.action = self.row.action
        self.properties = [p.rsplit(".", 1)[-1] for p in properties] if properties is not None else None
        if problems is None:
            problems = [_problem(field, problem)] if problem else []
        self.problems = problems
        self.retry_after = retry_after
        self.http_status = http_status

    @property
    def explanation(self) -> str:
        """The precise words, one line: what the log and the journal say."""
        return "; ".join(
            f"'{p['field']}' {p['problem']}" if p.get("field") else p["problem"] for p in self.problems
        )


def _problem(field: str | None, problem: str) -> dict:
    return {"field": field, "problem": problem} if field else {"problem": problem}


class SeedError(Exception):
    """One line saying what is wrong with the seed file (the CLI exits 2 with it)."""


def missing(*names: str) -> MesiboError:
    listed = " or ".join(f"'{n}'" for n in names)
    return MesiboError(MISSINGPARAMS, f"the required field {listed} is missing", names)


def bad_value(name: str, why: str) -> MesiboError:
    """A value of the wrong type or form."""
    return MesiboError(BADVALUE, why, [name], field=name)


def invalid_value(name: str, why: str, properties: Iterable[str] | None = None) -> MesiboError:
    """A well-formed value that names nothing (an unknown uid, gid, address or sender)."""
    return MesiboError(INVALIDVALUE, why, properties or [name], field=name)


def both_uid_and_address() -> MesiboError:
    return MesiboError(
        BOTH_UID_AND_ADDRESS, "name the user by uid or by address, not both", ["uid", "address"]
    )


def echoed_id(value: Any) -> int | None:
    """Only a whole number from 1 to 2^63-1 (a JSON number or a string of digits) is echoed, as a number."""
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
        and len(value) <= 19
    ):
        number = int(value)
    else:
        return None
    return number if 0 < number <= LARGEST_ID else None


def envelope(op: Any, request_id: Any = None, *, error: MesiboError | None = None, **fields: Any) -> dict:
    body: dict[str, Any] = {"op": op if isinstance(op, str) else None, "result": error is None}
    echoed = echoed_id(request_id) if request_id is not None else None
    if echoed is not None:
        body["id"] = echoed
    if error is not None:
        body["error"] = error.error
        body["code"] = error.code
        body["cause"] = error.cause
        if error.action is not None:
            body["action"] = error.action
        if error.row.properties and error.properties is not None:
            body["properties"] = error.properties
        if error.retry_after is not None:
            body["retry_after"] = error.retry_after
    else:
        body.update(fields)
    return body
