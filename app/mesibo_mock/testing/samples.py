"""`mesibo_mock.testing.samples`: the same module as `mesibo_mock.samples` (made in credentials/samples.py,
where the server's `/_mock/samples` makes them too)."""

import sys

from mesibo_mock.credentials import samples as _samples

sys.modules[__name__] = _samples
