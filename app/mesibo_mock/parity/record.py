"""`mesibo-mock record --upstream URL --out FILE`: a proxy on the backend paths that forwards every call
byte for byte to the real Mesibo (or an on-premise one), answers with its answer, and appends each call,
redacted, to a recording that `mesibo-mock verify` replays against the emulator."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import orjson
from starlette.datastructures import Headers

from mesibo_mock import __version__
from mesibo_mock.backend import parsing
from mesibo_mock.backend.replies import PATHS
from mesibo_mock.backend.request import fields_from
from mesibo_mock.errors import MesiboError
from mesibo_mock.parity import recording

log = logging.getLogger("mesibo_mock.record")
# Headers that belong to one connection, not to the call: never forwarded either way.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
MAX_BODY = 64 * 1024 * 1024  # a call larger than this is refused (413), not forwarded
READ_LIMIT = 16 * 1024 * 1024  # what the recording parses of a body (the whole still goes upstream)


def upstream_base(url: str) -> str:
    """`https://api.mesibo.com/backend` -> `https://api.mesibo.com`: a call's own path is kept."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--upstream must be an http:// or https:// URL, got {url!r}")
    path = parts.path.rstrip("/")
    for backend in sorted(PATHS, key=len, reverse=True):
        if path.endswith(backend.rstrip("/")):
            path = path[: len(path) - len(backend.rstrip("/"))]
            break
    return f"{parts.scheme}://{parts.netloc}{path}"


def inflated(body: bytes, encoding: str | None) -> bytes:
    """A gzip or deflate body, inflated to at most READ_LIMIT for reading (what is forwarded is the
    body as it came; one it cannot inflate is read as it came)."""
    try:
        return parsing.inflate(body, encoding or "", READ_LIMIT)[:READ_LIMIT]
    except ValueError:
        return body


class Recorder:
    """The ASGI app: forward, answer, record."""

    def __init__(self, upstream: str, out, timeout: float = 30.0) -> None:
        self.base = upstream_base(upstream)
        self.upstream = upstream
        self.out = out
        self.timeout = timeout
        self.redactor = recording.Redactor()
        self.seq = 0
        self.started = time.time()
        self.client: httpx.AsyncClient | None = None
        self.lock = asyncio.Lock()
        out.write(
            orjson.dumps(
                recording.header(
                    upstream,
                    datetime.fromtimestamp(self.started, UTC)
                    .isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z"),
                    self.started,
                    __version__,
                )
            ).decode()
            + "\n"
        )
        out.flush()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body, too_big = await self._body(receive)
        if too_big:
            await self._refuse(
                send, 413, f"the call is larger than mesibo-mock record forwards ({MAX_BODY >> 20} MiB)"
            )
            return
        if scope["path"] not in PATHS:
            why = f"mesibo-mock record forwards only the backend paths ({', '.join(PATHS)}), not {scope['path']}"
            await self._refuse(send, 404, why)
            return
        started = time.time()
        status, headers, answer, error = await self._forward(scope, body)
        if error is None:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": answer})
        else:
            await self._refuse(send, 504 if "timed out" in error else 502, f"mesibo-mock record: {error}")
        await self._record(scope, body, started, status, headers, answer, error)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=self.timeout)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def _body(receive) -> tuple[bytes, bool]:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return b"", True
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks), False

    @staticmethod
    async def _refuse(send, status: int, why: str) -> None:
        """What the recorder itself answers (not the upstream): JSON saying why."""
        text = orjson.dumps({"detail": why})
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(text)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": text})

    async def _forward(self, scope, body: bytes):
        """The call, byte for byte (method, path, query, headers, body as sent, compressed or not) to
        the upstream; -> (status, headers, the answer's bytes as they came, or an error)."""
        query = scope.get("query_string", b"").decode("latin-1")
        url = self.base + scope["path"] + (f"?{query}" if query else "")
        sent = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        sent = [(k, v) for k, v in sent if k.lower() not in HOP_BY_HOP]
        request = self.client.build_request(scope["method"], url, content=body, headers=sent)
        names = {k.lower() for k, _ in sent}
        for name in [n for n in request.headers if n.lower() not in names | {"host", "content-length"}]:
            del request.headers[name]  # nothing httpx would add on its own (its User-Agent, Accept...)
        if not body and scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            request.headers.pop("content-length", None)
        try:
            response = await asyncio.wait_for(self.client.send(request, stream=True), self.timeout)
            try:
                raw = await asyncio.wait_for(_raw(response), self.timeout)
            finally:
                await response.aclose()
        except AnswerTooLarge as exc:
            return 0, [], b"", str(exc)
        except (httpx.TimeoutException, TimeoutError):
            return 0, [], b"", f"the upstream did not answer within {self.timeout:g} s (timed out)"
        except httpx.HTTPError as exc:
            return 0, [], b"", f"the upstream could not be reached: {type(exc).__name__}: {exc}"[:500]
        headers = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in response.headers.multi_items()
            if k.lower() not in HOP_BY_HOP
        ]
        headers.append((b"content-length", str(len(raw)).encode()))
        return response.status_code, headers, raw, None

    async def _record(self, scope, body, started, status, headers, answer, error) -> None:
        request_headers = Headers(raw=scope["headers"])
        query = scope.get("query_string", b"")
        try:
            fields, encoding = await fields_from(
                request_headers, query, inflated(body, request_headers.get("content-encoding")), READ_LIMIT
            )
        except MesiboError as exc:  # unreadable: what could be read, and why not the rest
            fields, encoding = {"_unreadable": str(exc)}, "unreadable"
        line: dict = {
            "seq": 0,
            "t": round(started - self.started, 3),
            "method": scope["method"],
            "path": scope["path"],
            "encoding": encoding,
        }
        if error is not None:
            fields, _ = self.redactor.call(fields, None)
            line |= {"fields": fields, "error": error}
            if error.endswith("(truncated)"):
                line["truncated"] = True
        else:
            answer_headers = Headers(raw=headers)
            text = inflated(answer, answer_headers.get("content-encoding"))
            try:
                parsed = orjson.loads(text)
            except orjson.JSONDecodeError:
                parsed = text.decode("utf-8", "replace")
            fields, parsed = self.redactor.call(fields, parsed)
            line |= {
                "fields": fields,
                "answer": {
                    "status": status,
                    "content_type": answer_headers.get("content-type"),
                    "body": parsed,
                },
            }
        async with self.lock:
            self.seq += 1
            line["seq"] = self.seq
            shaped = self.redactor.shapes(line)
            if shaped:
                line["notes"] = [
                    {
                        "field": where,
                        "problem": "held a string shaped like a Mesibo token (64 letters and digits):"
                        " replaced by a numbered placeholder",
                    }
                    for where in shaped
                ]
                log.warning(
                    "#%d: %s held a string shaped like a Mesibo token: recorded as a placeholder",
                    self.seq,
                    ", ".join(shaped),
                )
            self.out.write(recording.line_text(line) + "\n")
            self.out.flush()
        log.info(
            "#%d %s %s -> %s", self.seq, scope["method"], scope["path"], status if error is None else error
        )


MAX_ANSWER = 8 * 1024 * 1024  # what the recorder reads of the upstream's answer (SPEC section 10)


class AnswerTooLarge(Exception):
    """The upstream's answer went past MAX_ANSWER: not read further, not forwarded."""


async def _raw(response: httpx.Response) -> bytes:
    """The answer's body as it came (compressed if it came compressed: httpx would inflate it), read to
    MAX_ANSWER at most: a huge answer is never held whole."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ANSWER:
        raise AnswerTooLarge(_too_large(f"declared {int(declared)} bytes"))
    chunks, size = [], 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > MAX_ANSWER:
            raise AnswerTooLarge(_too_large("went on"))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(how: str) -> str:
    return (
        f"the upstream's answer is larger than {MAX_ANSWER >> 20} MiB ({how}): read no further, not"
        " forwarded (truncated)"
    )


def open_out(path: str):
    """A new recording file (an existing one is never overwritten); ValueError saying why not."""
    try:
        return open(path, "x", encoding="utf-8")  # noqa: SIM115 - closed when the server stops
    except FileExistsError:
        raise ValueError(
            f"--out {path} exists already: choose another file (a recording is never overwritten)"
        ) from None
    except OSError as exc:
        raise ValueError(f"cannot write --out {path}: {exc.strerror or exc}") from None
