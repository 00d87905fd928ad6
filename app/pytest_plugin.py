"""pytest plugin (entry point `pytest11`): the `mesibo_mock` fixture.

One emulator per test session; before each test its state is reset and its clock is back to real.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mesibo_mock.testing import MesiboMock


@pytest.fixture(scope="session")
def _mesibo_mock_server() -> Iterator[MesiboMock]:
    with MesiboMock() as mock:
        yield mock


@pytest.fixture
def mesibo_mock(_mesibo_mock_server: MesiboMock) -> Iterator[MesiboMock]:
    _mesibo_mock_server.reset()
    _mesibo_mock_server.real_time()
    yield _mesibo_mock_server
