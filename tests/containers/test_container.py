"""MesiboMockContainer through a Docker API (here podman's; see docs/development.md): the project's image
runs, `/_mock/health` is waited on, and the connected MesiboMock's helpers work against it.

Skipped where no Docker API answers, unless MESIBO_MOCK_REQUIRE_CONTAINERS=1 (CI), where that fails."""

from __future__ import annotations

import os

import httpx
import pytest

IMAGE = os.environ.get("MESIBO_MOCK_IMAGE", "mesibo-mock:test")


def docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


if not docker_available():
    if os.environ.get("MESIBO_MOCK_REQUIRE_CONTAINERS") == "1":
        raise RuntimeError("MESIBO_MOCK_REQUIRE_CONTAINERS=1 but no Docker API answers (DOCKER_HOST?)")
    pytest.skip("no Docker API (set DOCKER_HOST; docs/development.md)", allow_module_level=True)

from mesibo_mock.testing.container import MesiboMockContainer  # noqa: E402


def test_the_container_runs_the_image_and_hands_back_a_connected_mock():
    with MesiboMockContainer(IMAGE, app_token="container-token") as container:
        mock = container.mock
        assert mock.health()["status"] == "ok"
        assert mock.app_token == "container-token" and mock.app()["name"] == "default"
        assert container.backend_url == container.url + "/backend"
        app = mock.create_app("per-test", credentials="sample")
        app.register_device("ann")
        answer = httpx.post(
            container.backend_url, json={"op": "pushtest", "token": app.token, "push": {"address": "ann"}}
        ).json()
        assert answer["result"] is True
        [push] = app.wait_for_pushes(address="ann")
        assert push["service"] == "fcm" and push["status"] == "sent"
        assert mock.pushes() == []  # the default app's view holds none of the per-test app's pushes
        app.close()
        mock.backend("pushset", push={"sounds": True})
        assert [m["field"] for m in mock.mistakes()] == ["push.sounds"]


def test_settings_and_an_admin_token_reach_the_container():
    with MesiboMockContainer(
        IMAGE, mode="onprem", admin_token="adm", env={"TESTPUSH_LIMIT": "1/60"}
    ) as container:
        assert container.mock.health()["mode"] == "onprem"
        assert httpx.get(container.url + "/_mock/apps").status_code == 401  # the admin token guards /_mock
        assert container.mock.apps()[0]["token"] == "mesibo-mock-test-token"
