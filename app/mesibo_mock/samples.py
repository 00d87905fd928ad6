"""`from mesibo_mock import samples`: the public path of the sample credentials, which live in
mesibo_mock.credentials.samples (the server's `GET /_mock/samples/{name}` makes the same files). This
name is that very module, so every path sees the same functions."""

import sys

from mesibo_mock.credentials import samples as _samples

sys.modules[__name__] = _samples
