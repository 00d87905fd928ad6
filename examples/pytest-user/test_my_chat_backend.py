"""A user's integration test: after `pip install mesibo-mock`, the `mesibo_mock` fixture is simply there.

Run it from this folder: `python -m pytest -q`. Nothing here imports the project's own tests.
"""

import httpx


def send_test_push(backend_url: str, app_token: str, address: str) -> dict:
    """Stands for the code under test: a chat backend calling Mesibo's API."""
    return httpx.post(
        backend_url, json={"op": "pushtest", "token": app_token, "push": {"address": address}}
    ).json()


def test_pushtest_reaches_the_users_android_phone(mesibo_mock):
    mesibo_mock.register_device("123456", platform="android", push_token="fcm-token-ann")
    answer = send_test_push(mesibo_mock.backend_url, mesibo_mock.app_token, "123456")
    assert answer["result"] is True

    [push] = mesibo_mock.wait_for_pushes(address="123456")
    assert push["service"] == "fcm"
    assert push["reason"] == "NO_FCM_CREDENTIALS"  # no credential uploaded in this test


def test_state_from_the_previous_test_is_gone(mesibo_mock):
    assert mesibo_mock.pushes() == []
    assert mesibo_mock.devices() == []


def test_clock_moves_and_faults_inject(mesibo_mock):
    mesibo_mock.advance(3600)
    mesibo_mock.register_device("1", platform="android", push_token="t1")
    mesibo_mock.inject_fault("UNAVAILABLE", address="1")
    assert len(httpx.get(mesibo_mock.url + "/_mock/faults").json()["faults"]) == 1


def test_clock_is_real_again(mesibo_mock):
    assert abs(mesibo_mock.clock()["offset"]) < 5
    assert httpx.get(mesibo_mock.url + "/_mock/faults").json()["faults"] == []


def test_an_app_of_the_tests_own_and_a_finding_it_expects(mesibo_app):
    """`mesibo_app`: an app named after this test, with the sample credentials; a finding the test
    reads with mistakes() is expected, so strict mode (mesibo_mock_strict) would not fail it."""
    mesibo_app.register_device("123456", platform="android", push_token="fcm-token-ann")
    assert send_test_push(mesibo_app.backend_url, mesibo_app.token, "123456")["result"] is True
    [push] = mesibo_app.wait_for_pushes(address="123456")
    assert push["status"] == "sent"  # the sample FCM service account
    httpx.post(
        mesibo_app.backend_url, json={"op": "pushset", "token": mesibo_app.token, "push": {"sounds": True}}
    )
    [finding] = mesibo_app.mistakes()
    assert finding["field"] == "push.sounds" and finding["hint"] == "did you mean 'push.sound'?"
