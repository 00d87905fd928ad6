"""`from mesibo_mock import samples`: sample push credentials for tests (a Firebase service account,
Apple push certificates of each kind, an APNs key), the public names of credentials/samples.py, where
the server's `/_mock/samples` makes the same files."""

from mesibo_mock.credentials.samples import *  # noqa: F403
from mesibo_mock.credentials.samples import __all__  # noqa: F401
