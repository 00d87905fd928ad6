"""What a push says: the payload-size shortcut never skips a payload that could be too large; the
apns-id has the shape of a UUID."""

import json

from mesibo_mock.delivery.content import Push


def test_payload_bound_is_safe_for_the_worst_characters():
    """surely_fits may skip measuring only when even fully escaped text stays under the limit."""
    worst = "\U0001f600\x01"  # a surrogate pair and a control character: the longest escapes
    for length in range(0, 400, 7):
        push = Push("alert", "test", "0" * 16, body=worst * length)
        size = len(
            json.dumps({"aps": push.apns_body(), "data": push.data(), "notification": push.aps()}).encode()
        )
        if push.surely_fits(4096):
            assert size < 4096


def test_an_apns_id_is_an_upper_case_version_4_uuid():
    """Formatted by hand on the hot path: the shape APNs answers, with the version and variant bits
    a UUID parser checks, and no two alike."""
    import uuid

    from mesibo_mock.delivery.apns import new_apns_id

    seen = set()
    for _ in range(2000):
        apns_id = new_apns_id()
        parsed = uuid.UUID(apns_id)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert apns_id == str(parsed).upper()
        seen.add(apns_id)
    assert len(seen) == 2000
