"""This project's own tests: its `app` package and mesibo-mock's `mesibo_mock` fixture side by side."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app import main  # this project's own `app` package, beside the installed mesibo_mock
from mesibo_mock import samples


@pytest.fixture
def client(mesibo_mock, monkeypatch):
    monkeypatch.setenv("MESIBO_API_URL", mesibo_mock.backend_url)
    monkeypatch.setenv("MESIBO_APP_TOKEN", mesibo_mock.app_token)
    return TestClient(main.app)


def test_signup_gets_a_mesibo_token(client, mesibo_mock):
    answer = client.post("/signup", json={"phone": "15551234", "name": "Ann"}).json()
    assert answer["mesibo_token"]
    [user] = mesibo_mock.users()
    assert user["address"] == "15551234" and user["tokens"][0]["appid"] == "com.example.chat"


def test_a_team_message_pushes_to_offline_members_only(client, mesibo_mock):
    assert mesibo_mock.upload_credential(samples.fcm(), "fcm")["result"] is True
    for phone in ("1", "2", "3"):
        mesibo_mock.register_device(phone, platform="android")
    mesibo_mock.set_online("3", True)
    gid = client.post("/teams", json={"name": "Ops", "members": ["1", "2", "3"]}).json()["gid"]

    mid = client.post(f"/teams/{gid}/messages", json={"sender": "1", "text": "deploy done"}).json()["mid"]

    [message] = mesibo_mock.wait_for_messages(gid=gid)
    assert message["mid"] == mid and message["message"] == "deploy done"
    [push] = mesibo_mock.pushes(mid=mid)
    assert push["address"] == "2" and push["status"] == "sent"
    assert push["request"]["body"]["message"]["data"]["body"] == "deploy done"


def test_the_ini_options_reached_the_server(mesibo_mock):
    assert mesibo_mock.health()["mode"] == "onprem"
