"""The /backend, /api.php and /mesiboapi routes: read any encoding within the size limit, dispatch,
journal and answer. Reading a call is backend/request.py's, what is answered backend/replies.py's, a
backend fault's answer backend/faulted.py's."""

from __future__ import annotations

import contextlib
import logging

from starlette.requests import ClientDisconnect, Request

from mesibo_mock.backend import journal
from mesibo_mock.backend.dispatch import app_named, dispatch
from mesibo_mock.backend.faulted import answer_fault, call_op, call_token
from mesibo_mock.backend.replies import PREFLIGHT, Reply, answer, answered, log_call, record, refused_notes
from mesibo_mock.backend.request import FORM_OVERHEAD, MAX_BIG_BODIES, Call, is_big, read_fields
from mesibo_mock.errors import BADREQ, MesiboError, envelope
from mesibo_mock.events.webhook import cloud_note
from mesibo_mock.server.responses import dumps
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.server.settings import parse_networks
from mesibo_mock.services import backend_faults
from mesibo_mock.store.db import StoreError

log = logging.getLogger("mesibo_mock.backend")


class BackendApp:
    """The backend paths as one ASGI app: a Request to read the call, a Reply written straight back
    (no router, middleware stack or response object between: the hot path of a chat backend's calls).
    An object, not a function, so that a Starlette Route takes it as an ASGI app of any method."""

    def __init__(self, handler) -> None:
        self.handler = handler

    async def __call__(self, scope, receive, send) -> None:
        try:
            reply = await self.handler(Request(scope, receive))
        except Exception:  # a bug must still answer in the envelope, never a 5xx
            log.exception("the backend failed on %s", scope.get("path"))
            reply = answer(envelope(None, error=MesiboError(BADREQ, "internal error")), 200)
        # on httptools, the whole answer in one write (server/guards.py); otherwise two ASGI messages
        send_whole = getattr(getattr(send, "__self__", None), "send_whole", None)
        if send_whole is not None and send_whole(reply.status, reply.headers, reply.body):
            return
        headers = [*reply.headers, (b"content-length", str(len(reply.body)).encode())]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})


class Endpoint:
    """The handler of every backend call: read it (a large body only when fewer than MAX_BIG_BODIES are
    being read), meet a backend fault, dispatch it to its op, journal it with the op's own work in one
    commit, and answer once that is durable."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.trusted = parse_networks(rt.settings.trusted_proxies)

    async def __call__(self, request: Request) -> Reply:
        if request.method == "OPTIONS":
            return PREFLIGHT
        call = Call(request, self.trusted)
        if not is_big(call):
            return await self.serve(request, call)
        if self.rt.big_bodies >= MAX_BIG_BODIES:  # its body is read and dropped as it comes, never held
            return await self.refuse_busy(request, call)
        self.rt.big_bodies += 1
        try:
            return await self.serve(request, call)
        finally:
            self.rt.big_bodies -= 1

    async def refuse_busy(self, request: Request, call: Call) -> Reply:
        exc = MesiboError(
            BADREQ,
            f"{MAX_BIG_BODIES} large bodies (uploads) are being read or parsed already: this one was"
            " dropped unread; send it again in a moment",
        )
        body = envelope(None, error=exc)
        await record(
            self.rt,
            call,
            body,
            app_named(self.rt, call.fields.get("token")),
            None,
            refused_notes(exc),
            error=exc,
        )
        # Read to its end, so that the client, still sending, gets the answer rather than a reset.
        close, seen = False, 0
        with contextlib.suppress(ClientDisconnect):
            async for chunk in request.stream():
                seen += len(chunk)
                if seen > self.rt.settings.max_upload_bytes + FORM_OVERHEAD:
                    close = True
                    break
        return answer(body, 200, close)

    async def refuse_loop(self, request: Request, call: Call) -> Reply:
        """A webhook POST of this emulator came back to its own backend: refused, so that a webhook URL
        pointed here (stored before, seeded, or by a name the emulator cannot tell is its own) cannot
        loop. It is not MESIBO OK, so the attempt fails and its retries end it."""
        with contextlib.suppress(MesiboError):
            await read_fields(request, call, self.rt.settings.max_upload_bytes)
        exc = MesiboError(
            BADREQ,
            "a webhook POST of this emulator reached its own backend: refused, so that it cannot loop (the app's"
            " webhook URL points at this emulator: point it at your backend's receiver)",
        )
        body = envelope(call.fields.get("op"), error=exc)
        await record(
            self.rt,
            call,
            body,
            app_named(self.rt, call.fields.get("token")),
            call_op(call.fields),
            refused_notes(exc),
            error=exc,
        )
        return answer(body, 200)

    async def serve(self, request: Request, call: Call) -> Reply:
        if call.from_webhook:
            return await self.refuse_loop(request, call)
        try:
            fields = await read_fields(request, call, self.rt.settings.max_upload_bytes)
        except MesiboError as exc:
            notes = refused_notes(exc)
            body = envelope(None, error=exc)
            # the token may still be readable (from the query string): filed under its app
            await record(
                self.rt, call, body, app_named(self.rt, call.fields.get("token")), None, notes, error=exc
            )
            return answer(body, exc.http_status)
        fault = (
            backend_faults.take(self.rt, call_op(fields), call_token(fields))
            if backend_faults.armed(self.rt)
            else None
        )
        if fault is not None:
            faulted = await answer_fault(self.rt, call, fields, fault)
            if faulted is not None:
                return faulted
        with self.rt.store.deferred():
            outcome = await dispatch(self.rt, fields, call.user_agent, call.client)
            sent = dumps(outcome.body)  # the answer as it will be sent, and as the journal keeps it
            outbox = outcome.outbox
            notes = call.notes + outcome.notes + webhook_notes(self.rt, outcome)
            if fault is not None:
                notes.append(
                    {
                        "problem": f"delayed {fault['delay']:g} s by backend fault #{fault['id']}",
                        "kind": "fault",
                    }
                )
            journal.write(
                self.rt,
                path=call.path,
                encoding=call.encoding,
                user_agent=call.user_agent,
                fields=fields,
                answer=outcome.body,
                app=outcome.app,
                op=outcome.op,
                notes=notes,
                pushes=outbox.push_ids if outbox is not None else [],
                mid=outcome.mid,
                fault=fault is not None,
                answer_json=sent,
            )
        try:
            await self.rt.store.flush()  # answer only once the write is durable
        except StoreError as exc:
            error = MesiboError(BADREQ, str(exc))
            log.warning("%s op=%s -> BADREQ 400: %s", call.path, outcome.op or "-", exc)
            return answer(envelope(fields.get("op"), fields.get("id"), error=error), 200)
        if outcome.error is not None or notes:
            log_call(call.path, outcome.op, outcome.app, outcome.error, notes)
        return answered(sent, outcome.status)


def make_endpoint(rt: Runtime) -> BackendApp:
    return BackendApp(Endpoint(rt))


def webhook_notes(rt: Runtime, outcome) -> list[dict]:
    """A call whose events go to a webhook Mesibo's cloud would refuse: the journal says so."""
    if outcome.app is None or outcome.outbox is None or not outcome.outbox.delivered:
        return []
    note = cloud_note(rt, outcome.app["webhook_url"])
    return [{"field": "webhook", "problem": note, "kind": "webhook"}] if note else []
