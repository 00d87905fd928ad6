"""Keep FastAPI from importing `pydantic.v1` (about 55 ms) just to reject v1 models.

FastAPI checks every route parameter and every serialised object against `pydantic.v1.BaseModel`,
importing `pydantic.v1` to do so, although it no longer supports v1 models at all. If nothing in the
process has imported `pydantic.v1`, no object can be a v1 model, so the answer is known without the
import. Where a future FastAPI drops these functions, this does nothing.
"""

from __future__ import annotations

import sys
from typing import Any


def _loaded_v1() -> Any:
    return sys.modules.get("pydantic.v1")


def _is_v1_model_class(cls: Any) -> bool:
    v1 = _loaded_v1()
    return v1 is not None and isinstance(cls, type) and issubclass(cls, v1.BaseModel)


def _is_v1_model_instance(obj: Any) -> bool:
    v1 = _loaded_v1()
    return v1 is not None and isinstance(obj, v1.BaseModel)


def apply() -> None:
    try:
        from fastapi._compat import shared
    except ImportError:  # pragma: no cover - a FastAPI without the module
        return
    if hasattr(shared, "is_pydantic_v1_model_class"):
        shared.is_pydantic_v1_model_class = _is_v1_model_class
    if hasattr(shared, "is_pydantic_v1_model_instance"):
        shared.is_pydantic_v1_model_instance = _is_v1_model_instance
        import fastapi.encoders

        if getattr(fastapi.encoders, "is_pydantic_v1_model_instance", None) is not None:
            fastapi.encoders.is_pydantic_v1_model_instance = _is_v1_model_instance
