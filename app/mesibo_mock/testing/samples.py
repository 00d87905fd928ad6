"""`mesibo_mock.testing.samples`: the sample credentials beside the test helpers, the same functions as
`mesibo_mock.samples` (credentials/samples.py makes them)."""

from mesibo_mock.credentials.samples import *  # noqa: F403
from mesibo_mock.credentials.samples import __all__  # noqa: F401
