"""What a push says: the payload-size shortcut never skips a payload that could be too large."""

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
