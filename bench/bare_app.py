"""The baseline: a bare FastAPI app answering the same requests with no work behind them.

Started exactly as `mesibo-mock serve` starts the emulator (same uvicorn settings, a pre-bound
socket), so the ratio measures the emulator's own cost and nothing else.
"""

from __future__ import annotations

import asyncio
import json
import sys

from fastapi import FastAPI, Request
from fastapi.responses import Response

app = FastAPI()
ENVELOPE = {"op": None, "result": True}


@app.api_route("/backend", methods=["GET", "POST"])
async def backend(request: Request) -> Response:
    fields = json.loads(await request.body() or b"{}")
    body = {**ENVELOPE, "op": fields.get("op")}
    return Response(json.dumps(body, separators=(",", ":")).encode(), media_type="application/json")


@app.get("/_mock/pushes")
async def pushes() -> dict:
    return {"pushes": []}


@app.get("/_mock/health")
async def health() -> dict:
    return {"status": "ok"}


def main() -> None:
    import uvicorn

    from mesibo_mock.server.serving import bind, clean_exit_server

    port = int(sys.argv[1])
    sock = bind("127.0.0.1", port)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, timeout_graceful_shutdown=8, log_config=None
    )
    asyncio.run(clean_exit_server(uvicorn.Server)(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
