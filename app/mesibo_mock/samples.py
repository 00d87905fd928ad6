"""`from mesibo_mock import samples`: the public path of the sample credentials, which live in
mesibo_mock.testing.samples. This name is that very module, so both paths see the same functions."""

import sys

from mesibo_mock.testing import samples as _samples

sys.modules[__name__] = _samples
