"""Field rules (booleans, whole numbers, addresses) and the response envelope."""

import pytest

from mesibo_mock.backend.reading import Fields
from mesibo_mock.backend.registry import DOCS
from mesibo_mock.errors import BADVALUE, MISSINGPARAMS, RATELIMITED, MesiboError, bad_value, envelope, missing
from mesibo_mock.values import as_address, as_bool, as_whole


@pytest.mark.parametrize(
    "raw, expected",
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("true", True),
        ("FALSE", False),
        ("Yes", True),
        ("no", False),
        ("1", True),
        ("0", False),
        (" true ", True),
    ],
)
def test_boolean_spellings(raw, expected):
    assert as_bool("push.sound", raw) is expected


@pytest.mark.parametrize("raw", [2, -1, "maybe", "", None, 1.5, [], {}, "on"])
def test_non_booleans_are_badvalue_naming_the_field(raw):
    with pytest.raises(MesiboError) as exc:
        as_bool("push.sound", raw)
    assert exc.value.error == BADVALUE
    assert exc.value.properties == ["sound"]


@pytest.mark.parametrize("raw, expected", [(5, 5), ("42", 42), (3.0, 3), (" 7 ", 7)])
def test_whole_numbers(raw, expected):
    assert as_whole("push.duration", raw) == expected


@pytest.mark.parametrize("raw", [1.5, "1.5", "ten", True, None, [], -1, "-3"])
def test_not_whole_numbers_are_badvalue(raw):
    with pytest.raises(MesiboError) as exc:
        as_whole("push.duration", raw)
    assert exc.value.properties == ["duration"]


def test_whole_number_above_maximum_is_badvalue():
    with pytest.raises(MesiboError) as exc:
        as_whole("push.duration", 10801, maximum=10800)
    assert "between 0 and 10800" in exc.value.explanation
    assert exc.value.cause.startswith("One or more properties contain bad values.")  # Mesibo's own text


def test_whole_numbers_beyond_sqlite_integers_are_badvalue():
    with pytest.raises(MesiboError) as exc:
        as_whole("user.uid", 2**63)
    assert exc.value.properties == ["uid"]


def test_numeric_address_becomes_decimal_text():
    assert as_address("user.address", 123456) == "123456"
    assert as_address("user.address", 12.0) == "12"


@pytest.mark.parametrize("raw", ["", "   ", True, 1.5, {"a": 1}, ["x"]])
def test_bad_addresses(raw):
    with pytest.raises(MesiboError) as exc:
        as_address("push.address", raw)
    assert exc.value.error == BADVALUE


def test_required_missing_is_missingparams_with_dotted_name():
    with pytest.raises(MesiboError) as exc:
        Fields("pushtest", DOCS["pushtest"], {"push": {}}).need("push.address")
    assert exc.value.error == MISSINGPARAMS
    assert exc.value.properties == ["address"]


def test_object_field_refuses_a_string():
    with pytest.raises(MesiboError) as exc:
        Fields("pushtest", DOCS["pushtest"], {"push": "abc"}).need("push")
    assert exc.value.error == BADVALUE


def test_success_envelope_echoes_op_and_id():
    assert envelope("pushset", 9, push={"a": 1}) == {
        "op": "pushset",
        "result": True,
        "id": 9,
        "push": {"a": 1},
    }


def test_failure_envelope_has_error_code_cause_action_and_bare_properties():
    body = envelope("pushset", None, error=missing("push.address"))
    assert list(body) == ["op", "result", "error", "code", "cause", "action", "properties"]
    assert body == {
        "op": "pushset",
        "result": False,
        "error": "MISSINGPARAMS",
        "code": 400,
        "cause": "One or more required properties for this operation type are missing. Refer to the "
        "properties array in the response to learn more.",
        "action": "Refer to the mesibo backend API documentation to learn about required parameters",
        "properties": ["address"],
    }


def test_the_precise_explanation_never_reaches_the_envelope():
    error = bad_value("push.sound", "must be a boolean, got 'loud'")
    body = envelope("pushset", None, error=error)
    assert "loud" not in str(body) and "loud" in error.explanation
    assert error.problems == [{"field": "push.sound", "problem": "must be a boolean, got 'loud'"}]


def test_every_error_has_its_code_from_one_table():
    from mesibo_mock.errors import ROWS

    codes = {name: (row.error, row.code) for name, row in ROWS.items()}
    assert codes == {
        "BADPAYLOAD": ("BADPAYLOAD", 400),
        "MISSINGPARAMS": ("MISSINGPARAMS", 400),
        "UNKNOWN_OP": ("BADVALUE", 501),
        "TOKENBREACH": ("TOKENBREACH", 401),
        "BADORIGIN": ("BADORIGIN", 502),
        "AUTHFAIL": ("AUTHFAIL", 401),
        "BADVALUE": ("BADVALUE", 400),
        "BADAPPID": ("BADVALUE", 400),
        "INVALIDVALUE": ("INVALIDVALUE", 400),
        "BADREQ": ("BADREQ", 400),
        "BOTH_UID_AND_ADDRESS": ("BADREQ", 400),
        "RATELIMITED": ("RATELIMITED", 503),
        "CREDITSEXCEEDED": ("CREDITSEXCEEDED", 402),
        "QUOTAEXCEEDED": ("QUOTAEXCEEDED", 503),
        "UNUSEDTRIALUSERS": ("UNUSEDTRIALUSERS", 503),
    }


def test_ratelimited_envelope_has_retry_after():
    body = envelope("pushtest", None, error=MesiboError(RATELIMITED, "slow down", retry_after=12))
    assert body["retry_after"] == 12
    assert "properties" not in body


def test_non_string_op_is_echoed_as_null():
    assert envelope({"x": 1}, None, error=MesiboError("UNKNOWN_OP", "no", ["op"]))["op"] is None
