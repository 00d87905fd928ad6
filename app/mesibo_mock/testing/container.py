"""MesiboMockContainer: the project's image under Testcontainers (`pip install 'mesibo-mock[containers]'`).

    from mesibo_mock.testing.container import MesiboMockContainer

    with MesiboMockContainer("mesibo-mock:latest") as container:
        mock = container.mock          # a MesiboMock connected to it: every helper
        my_backend_url = container.backend_url

It runs the image (built from docker/Dockerfile; nothing is published yet), waits until
`/_mock/health` answers, and hands back a connected `MesiboMock`. A small subclass of the generic
container, as testcontainers' own community modules are.
"""

from __future__ import annotations

import os

from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import HttpWaitStrategy

from mesibo_mock.testing.mock import MesiboMock

PORT = 8000


class MesiboMockContainer(DockerContainer):
    def __init__(
        self,
        image: str | None = None,
        *,
        app_token: str = "mesibo-mock-test-token",
        mode: str = "cloud",
        admin_token: str | None = None,
        env: dict[str, str] | None = None,
        startup_timeout: float = 60,
        **kwargs,
    ) -> None:
        """`image`: the image built from docker/Dockerfile (default MESIBO_MOCK_IMAGE, else
        mesibo-mock:latest). `env`: any MESIBO_MOCK_* setting, with or without its prefix."""
        super().__init__(image or os.environ.get("MESIBO_MOCK_IMAGE", "mesibo-mock:latest"), **kwargs)
        self.app_token = app_token
        self.admin_token = admin_token
        self.mock: MesiboMock | None = None
        settings = {
            "APP_TOKEN": app_token,
            "MODE": mode,
            "DB": ":memory:",  # a throw-away container keeps nothing
            # reached through a mapped port, perhaps by the Docker host's name: a test container's /_mock
            # is for the test that started it
            "ALLOWED_HOSTS": "*",
            **({"ADMIN_TOKEN": admin_token} if admin_token else {}),
            **(env or {}),
        }
        for key, value in settings.items():
            self.with_env(key if key.startswith("MESIBO_MOCK_") else f"MESIBO_MOCK_{key.upper()}", str(value))
        self.with_exposed_ports(PORT)
        self.waiting_for(
            HttpWaitStrategy(PORT, "/_mock/health").for_status_code(200).with_startup_timeout(startup_timeout)
        )

    @property
    def url(self) -> str:
        return f"http://{self.get_container_host_ip()}:{self.get_exposed_port(PORT)}"

    @property
    def backend_url(self) -> str:
        return self.url + "/backend"

    def start(self) -> MesiboMockContainer:
        super().start()
        self.mock = MesiboMock.connect(self.url, app_token=self.app_token, admin_token=self.admin_token)
        return self

    def stop(self, force: bool = True, delete_volume: bool = True) -> None:
        if self.mock is not None:
            self.mock.stop()
            self.mock = None
        super().stop(force=force, delete_volume=delete_volume)
