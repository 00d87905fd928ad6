"""One module per backend op. Each handler takes (OpContext, fields) and returns the response fields."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from mesibo_mock.runtime import Runtime


@dataclass
class OpContext:
    rt: Runtime
    app: sqlite3.Row
