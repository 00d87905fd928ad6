"""Request parsing: every encoding lands in the same nested dict."""

import pytest

from mesibo_mock.backend import parsing
from mesibo_mock.errors import BADPAYLOAD, MesiboError


@pytest.mark.parametrize(
    "key, parts",
    [
        ("push", ["push"]),
        ("push.address", ["push", "address"]),
        ("push[address]", ["push", "address"]),
        ("user[token][appid]", ["user", "token", "appid"]),
        ("user.token[expiry]", ["user", "token", "expiry"]),
        ("weird[]", ["weird[]"]),
        ("[odd", ["[odd"]),
    ],
)
def test_split_key_understands_dotted_and_bracket_keys(key, parts):
    assert parsing.split_key(key) == parts


def test_nest_builds_objects_from_flat_pairs():
    pairs = [("op", "pushset"), ("push.sound", "1"), ("push[collapse]", "true"), ("user.token.appid", "a")]
    assert parsing.nest(pairs) == {
        "op": "pushset",
        "push": {"sound": "1", "collapse": "true"},
        "user": {"token": {"appid": "a"}},
    }


def test_nest_reads_json_text_objects():
    assert parsing.nest([("push", '{"address": "123"}')]) == {"push": {"address": "123"}}


def test_nest_merges_json_text_with_flat_keys():
    assert parsing.nest([("push", '{"address": "1"}'), ("push.sound", "true")]) == {
        "push": {"address": "1", "sound": "true"}
    }


def test_json_text_with_nan_stays_text():
    assert parsing.nest([("push", '{"a": NaN}')]) == {"push": '{"a": NaN}'}


def test_json_text_that_is_not_an_object_stays_text():
    assert parsing.nest([("push", "{not json")]) == {"push": "{not json"}


def test_nest_lets_the_later_of_a_value_and_nested_fields_for_one_name_stand():
    """As everywhere in a query string, the later pair wins (the fuzzer met `file={}` then `file=`)."""
    assert parsing.nest([("push", "x"), ("push.address", "1")]) == {"push": {"address": "1"}}
    assert parsing.nest([("push.address", "1"), ("push", "x")]) == {"push": "x"}
    assert parsing.nest([("file", "{}"), ("file", "")]) == {"file": ""}


def test_later_flat_pairs_win():
    assert parsing.nest([("op", "a"), ("op", "b")]) == {"op": "b"}


def test_merge_is_deep_and_the_body_wins():
    query = {"token": "T", "push": {"address": "1", "sound": "0"}}
    body = {"push": {"sound": "1"}}
    assert parsing.merge(query, body) == {"token": "T", "push": {"address": "1", "sound": "1"}}


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/json", "application/x-www-form-urlencoded"]
)
def test_json_body_is_read_whatever_the_content_type(content_type):
    assert parsing.parse_body(b'{"op": "x"}', content_type) == {"op": "x"}


def test_form_body_is_parsed_to_nested_fields():
    assert parsing.parse_body(b"op=pushset&push.sound=1", "application/x-www-form-urlencoded") == {
        "op": "pushset",
        "push": {"sound": "1"},
    }


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"[1, 2]", None),
        (b'"text"', "application/json"),
        (b"{broken", None),
        (b"{broken", "application/json"),
        (b"\xff\xfe{", "application/json"),
        (b"just words", "text/plain"),
        (b'{"id": NaN}', "application/json"),
        (b'{"push": {"duration": Infinity}}', None),
        (b'{"push": [1, -Infinity,]}', None),
        (b'{"id": 1e400}', None),
        (b"[" * 3000, None),
        (b"\xff=\xfe", "application/x-www-form-urlencoded"),
    ],
)
def test_unparseable_bodies_are_badpayload_in_mesibos_words(body, content_type):
    with pytest.raises(MesiboError) as exc:
        parsing.parse_body(body, content_type)
    assert exc.value.error == BADPAYLOAD
    assert exc.value.cause == "The input request is not a valid JSON object"


@pytest.mark.parametrize(
    "body, expected",
    [
        (b'{"a": 1,}', {"a": 1}),
        (b'{"a": [1, 2,],}', {"a": [1, 2]}),
        (b'{"a": "x,}", "b": "]",}', {"a": "x,}", "b": "]"}),
        (b'{\n  "push": {\n    "address": "123456",\n  }\n}', {"push": {"address": "123456"}}),
    ],
)
def test_trailing_commas_are_accepted_and_strings_untouched(body, expected):
    assert parsing.parse_body(body, None) == expected


@pytest.mark.parametrize(
    "body",
    [
        b"{'op': 'pushset'}",  # single quotes
        b'{op: "pushset"}',  # a bare key
        b'{"op": "pushset" /* a comment */}',
        b'{"op": "pushset"} // a comment',
        b'{"n": 0x10}',  # hex
        b'{"n": +1}',
        b"{,}",  # a comma with nothing before it is not a trailing comma
        b'{"a": [1,,]}',
        b'{"a": 1,,}',
    ],
)
def test_only_a_trailing_comma_is_lenient(body):
    """No evidence says Mesibo takes JSON5: only the push documentation's trailing comma is accepted."""
    with pytest.raises(MesiboError) as exc:
        parsing.parse_body(body, "application/json")
    assert exc.value.error == BADPAYLOAD


def test_trailing_comma_removal_is_linear_on_a_long_body():
    body = b"[" + b"1," * 200_000 + b"]"
    assert len(parsing.loads_lenient(body)) == 200_000


def test_empty_body_is_no_fields():
    assert parsing.parse_body(b"  ", "application/json") == {}


def test_query_string_is_nested():
    assert parsing.parse_query(b"op=pushtest&push%5Baddress%5D=12") == {
        "op": "pushtest",
        "push": {"address": "12"},
    }


def test_uploaded_file_repr_never_shows_its_bytes():
    upload = parsing.UploadedFile("key.json", b"-----BEGIN PRIVATE KEY-----secret")
    assert "secret" not in repr(upload)
    assert "BEGIN" not in repr(upload)


# --- the fast reading (orjson) says what the json module says ----------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        b'{"n": 123456789012345678901234567890}',  # past 64 bits: orjson would make it a float
        b'{"n": -9223372036854775809}',
        b'{"n": 18446744073709551615}',
        b'{"n": 9223372036854775807, "m": -9223372036854775808}',
        b'{"s": "1234567890123456789012"}',  # a digit run in a text: the slow reading, same answer
        b'{"f": 0.1, "g": 1e-7, "h": -0.0, "i": 1E5, "j": 5e-324, "k": 1.7976931348623157e308}',
        b'{"u": "\\ud83d\\ude00", "e": "\\u00e9", "c": "caf\xc3\xa9"}',
        b'{"lone": "\\ud800"}',  # orjson refuses a lone surrogate; the json module reads it
        b'{"a": [1, {"b": null, "c": true, "d": false}], "a": 2}',  # a key twice: the last stands
        b' \n{"spaced" : [ 1 , 2 ] }\t',
    ],
)
def test_the_fast_reading_gives_the_json_modules_values(body):
    import json

    expected = json.loads(body.decode("utf-8"))
    got = parsing.loads_lenient(body)
    assert got == expected
    assert json.dumps(got) == json.dumps(expected)  # types too: an int stays an int, exactly


@pytest.mark.parametrize(
    "body", [b'{"f": 1e400}', b'{"f": NaN}', b'{"f": Infinity}', b'\xef\xbb\xbf{"a": 1}', b'{"a": "\xff"}']
)
def test_what_both_readings_refuse_is_still_refused(body):
    with pytest.raises(ValueError):
        parsing.loads_lenient(body)


def test_the_fast_reading_agrees_with_the_json_module_on_generated_documents():
    import json
    import random

    rnd = random.Random(11)

    def value(depth: int):
        kind = rnd.randrange(9 if depth < 4 else 6)
        if kind == 0:
            return rnd.randrange(-(10**25), 10**25) if rnd.random() < 0.2 else rnd.randrange(-1000, 1000)
        if kind == 1:
            return rnd.uniform(-1e9, 1e9) * 10 ** rnd.randrange(-300, 290)
        if kind == 2:
            return "".join(
                chr(rnd.choice([rnd.randrange(32, 127), rnd.randrange(160, 0x2FFF)])) for _ in range(5)
            )
        if kind == 3:
            return None
        if kind in (4, 5):
            return rnd.random() < 0.5
        if kind in (6, 7):
            return {f"k{rnd.randrange(6)}": value(depth + 1) for _ in range(rnd.randrange(4))}
        return [value(depth + 1) for _ in range(rnd.randrange(4))]

    for _ in range(2000):
        doc = {"op": "x", "v": value(0)}
        body = json.dumps(doc, ensure_ascii=rnd.random() < 0.5).encode()
        assert json.dumps(parsing.loads_lenient(body)) == json.dumps(json.loads(body)), body


def test_nesting_the_json_module_refuses_is_refused_though_orjson_would_read_it():
    """orjson reads 1,024 levels; the json module stops at its recursion limit, and what is read is
    walked by code that recurses, so a body that deep never takes the fast reading."""
    with pytest.raises(ValueError):
        parsing.loads_lenient(b'{"x": ' + b"[" * 1000 + b"]" * 1000 + b"}")
    shallow = b'{"x": ' + b"[" * 400 + b"]" * 400 + b"}"
    assert parsing.loads_lenient(shallow) == __import__("json").loads(shallow)
