"""JSON responses written straight to bytes: no jsonable_encoder pass over what is already JSON-ready."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


def dumps(body: Any) -> bytes:
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate sent as "\ud800": echo it escaped, as valid JSON
        return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()


def json_response(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json")
