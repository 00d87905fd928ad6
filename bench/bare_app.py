"""The baseline: a bare FastAPI app answering the same requests with no work behind them.

Started exactly as `mesibo-mock serve` starts the emulator (same uvicorn settings, a pre-bound
socket, the same HTTP protocol and event loop), so the ratio measures the emulator's own cost and
nothing else.
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
    """`python -m bench.bare_app PORT [httptools|h11]`: httptools on uvloop (the stack's real limit), or
    h11 on asyncio's loop (the pure-Python fallback)."""
    import uvicorn

    from mesibo_mock.server.serving import bind, clean_exit_server, event_loop_factory

    port = int(sys.argv[1])
    kind = sys.argv[2] if len(sys.argv) > 2 else "httptools"
    sock = bind("127.0.0.1", port)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, timeout_graceful_shutdown=8, log_config=None, http=kind
    )
    with asyncio.Runner(loop_factory=event_loop_factory(kind)) as runner:
        runner.run(clean_exit_server(uvicorn.Server)(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
