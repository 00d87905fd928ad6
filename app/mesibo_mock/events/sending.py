"""Posting Mesibo's webhook deliveries (SPEC section 5): one attempt at a time per app, in the order they
were raised; a receiver must answer HTTP 200 with `MESIBO OK`, and anything else (another status, no
connection, a timeout, an answer too long or compressed) is a failed attempt, retried about 1 s and then
2 s later, 3 attempts in all. The answer is read to 64 KB at most, within one deadline."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from typing import TYPE_CHECKING

from mesibo_mock.events.webhook import LOOP_HEADER, RECEIVER_OK
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import webhooks

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("mesibo_mock.webhook")
MAX_ATTEMPTS = 3
CLAIM_MARGIN = 5.0  # seconds a claim outlives its attempt's deadline
BACKOFF_SECONDS = (1.0, 2.0)
# Attempts under way for one app at once. One: a receiver gets an app's POSTs in the order they were
# raised (a user's online then offline must not arrive the other way round); a slow receiver holds up
# only its own app, since each app with something owed gets its own turn.
PER_APP_IN_FLIGHT = 1
# Attempts under way at once, across apps: each app's one is its own connection (the client's pool is
# as large), so 120 apps whose receivers hang leave room for the healthy ones.
MAX_IN_FLIGHT = 256
# What is read of a receiver's answer: Mesibo wants nine bytes, MESIBO OK. A longer answer fails the
# attempt unread; a compressed one is never inflated.
MAX_ANSWER_BYTES = 64 * 1024


def claim_due(rt: Runtime, in_flight_per_app: dict[str, int], room: int = MAX_IN_FLIGHT) -> list[sqlite3.Row]:
    """Due deliveries that no attempt holds, at most PER_APP_IN_FLIGHT per app counting those under way
    and `room` in all, each claimed in the store before it is sent (services/webhooks.py says how). A
    claim lasts past the attempt's deadline; if the process dies, the delivery is free again after it."""
    if room <= 0:
        return []
    claim = rt.settings.webhook_timeout + CLAIM_MARGIN
    return webhooks.claim_due(rt, in_flight_per_app, PER_APP_IN_FLIGHT, room, claim)


class AnswerTooLong(Exception):
    pass


async def post(
    client: httpx.AsyncClient, delivery: sqlite3.Row, deadline: float
) -> tuple[int, bytes, str | None]:
    """POST the delivery; -> (status, the answer's raw bytes, its Content-Encoding). At most
    MAX_ANSWER_BYTES are read (AnswerTooLong past that), and nothing is decompressed."""
    request = client.build_request(
        "POST",
        delivery["url"],
        content=delivery["payload"].encode(),
        headers={
            "content-type": "application/json",
            "user-agent": "mesibo-mock-webhook",
            "accept-encoding": "identity",
            LOOP_HEADER: "1",  # the backend refuses a call that carries it: a webhook pointed back at it loops
        },
        timeout=deadline,
    )
    answer = await client.send(request, stream=True)
    try:
        declared = answer.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
            raise AnswerTooLong(f"a body of {int(declared)} bytes")
        body = bytearray()
        async for chunk in answer.aiter_raw():
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                raise AnswerTooLong(f"a body of more than {MAX_ANSWER_BYTES} bytes")
        return answer.status_code, bytes(body), answer.headers.get("content-encoding")
    finally:
        await answer.aclose()


async def attempt(rt: Runtime, client: httpx.AsyncClient, delivery: sqlite3.Row) -> None:
    import httpx

    generation = rt.generation  # a reset while the POST is under way makes its outcome moot
    number = delivery["attempts"] + 1
    started = time.perf_counter()
    status_code: int | None = None
    error: str | None = None
    deadline = rt.settings.webhook_timeout
    try:
        # One deadline for the whole attempt, the answer's body included: httpx's timeout applies to
        # each read, and a receiver that trickles a byte at a time would otherwise hold it forever.
        status_code, body, encoding = await asyncio.wait_for(post(client, delivery, deadline), deadline)
        error = receiver_refusal(status_code, body, encoding)
    except (httpx.TimeoutException, TimeoutError):
        error = f"timed out after {deadline:g} s (the whole answer must come within it)"
    except AnswerTooLong as exc:
        error = f"answered {exc}: Mesibo wants only {RECEIVER_OK}, so the answer was not read"
    except (httpx.HTTPError, OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    ok = error is None
    now = rt.clock.now()
    if rt.generation != generation:
        log.info("webhook #%d attempt %d finished after a reset: not recorded", delivery["seq"], number)
        return
    done = ok or number >= MAX_ATTEMPTS
    state = "delivered" if ok else "failed" if done else "pending"
    attempt_row = {
        "url": delivery["url"],
        "attempt": number,
        "status_code": status_code,
        "error": error,
        "duration_ms": duration_ms,
        "ok": ok,
        "ts": now,
    }
    webhooks.record_attempt(
        rt, delivery, attempt_row, None if done else now + BACKOFF_SECONDS[number - 1], state
    )
    rt.records_changed("deliveries", ({"app_token": delivery["app_token"], "state": state},))
    rt.records_changed("attempts", ({"app_token": delivery["app_token"], "delivery_id": delivery["id"]},))
    level = logging.INFO if ok else logging.WARNING
    note = f" ({delivery['note']})" if delivery["note"] else ""
    log.log(
        level,
        "webhook #%d (%d event%s) attempt %d -> %s%s",
        delivery["seq"],
        delivery["event_count"],
        "" if delivery["event_count"] == 1 else "s",
        number,
        "MESIBO OK" if ok else error,
        note,
    )


def receiver_refusal(status_code: int, body: bytes, encoding: str | None = None) -> str | None:
    """Why an answer is not what Mesibo wants (HTTP 200 and the plain text MESIBO OK); None if it is."""
    if status_code != 200:
        first = body[:40].decode("utf-8", "replace").strip() if body and not encoding else ""
        answered = f" with {first!r}" if first else ""
        return f"receiver answered HTTP {status_code}{answered} (Mesibo wants 200 with {RECEIVER_OK})"
    if encoding and encoding.strip().lower() != "identity":
        return f"answered 200 compressed ({encoding[:40]}): Mesibo wants the plain text {RECEIVER_OK}"
    if body.strip() != RECEIVER_OK.encode():
        shown = body[:40].decode("utf-8", "replace")
        return (
            f"answered 200 without {RECEIVER_OK} (body {shown!r})"
            if body.strip()
            else f"answered 200 without {RECEIVER_OK} (empty body)"
        )
    return None


def release(rt: Runtime, delivery_ids: list[int]) -> None:
    """Give claimed deliveries back at once (the server is stopping with their attempts unfinished)."""
    webhooks.release(rt, delivery_ids)
