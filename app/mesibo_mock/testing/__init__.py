"""For users' test suites: MesiboMock (a real server on a free port), MesiboApp (an app of a test's
own), the pytest plugin and sample credentials. `from mesibo_mock.testing import MesiboMock` is the
public path."""

from mesibo_mock.testing.app import MesiboApp
from mesibo_mock.testing.errors import MesiboMockError
from mesibo_mock.testing.mock import MesiboMock, free_port, serve_command
from mesibo_mock.testing.receiver import WebhookReceiver

__all__ = ["MesiboApp", "MesiboMock", "MesiboMockError", "WebhookReceiver", "free_port", "serve_command"]
