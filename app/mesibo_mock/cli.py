"""`mesibo-mock serve`: flags over MESIBO_MOCK_* variables; bad input is one line on stderr and exit 2."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import re
import signal
import sys
from urllib.parse import unquote_plus

from pydantic import ValidationError

from mesibo_mock import __version__
from mesibo_mock.redaction import KEY_MARK, holds_key, scrub
from mesibo_mock.server.guards import guarded_protocol, protocol_kind
from mesibo_mock.server.serving import (
    UsageError,
    bind,
    check_parent,
    clean_exit_server,
    event_loop_factory,
    watch_parent,
)
from mesibo_mock.server.settings import LOG_LEVELS, Settings

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints the whole usage; we print one line
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="mesibo-mock",
        description="A local emulator of Mesibo's backend API for tests and development stacks: users, groups,"
        " messages, push credentials, options, test pushes and debug windows, answered as Mesibo answers;"
        " what would have gone to FCM and APNs, the webhook's events and every backend call kept to read"
        " and wait for (the /_mock API and its dashboard).",
    )
    parser.add_argument("--version", action="version", version=f"mesibo-mock {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    serve = commands.add_parser("serve", help="start the emulator")
    serve.add_argument("--host", help="address to listen on (MESIBO_MOCK_HOST, default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, help="port to listen on; 0 picks a free one (MESIBO_MOCK_PORT, 8000)"
    )
    serve.add_argument("--db", help="SQLite file, or :memory: (MESIBO_MOCK_DB, ./mesibo-mock.db)")
    serve.add_argument("--mode", choices=["cloud", "onprem"], type=str.lower, help="MESIBO_MOCK_MODE, cloud")
    serve.add_argument("--seed", help="YAML or JSON seed file (MESIBO_MOCK_SEED)")
    serve.add_argument("--log-level", choices=LOG_LEVELS, type=str.lower, help="MESIBO_MOCK_LOG_LEVEL, info")
    serve.add_argument(
        "--ready-file",
        metavar="PATH",
        help="once listening, write {url, backend_url, app_token, pid, version} as JSON to PATH (atomically);"
        " the same object follows 'mesibo-mock ready ' on the first line of stdout",
    )
    serve.add_argument(
        "--parent-pid",
        metavar="PID",
        type=int,
        help="end the server when process PID has ended, however it ended (test helpers pass their own)",
    )
    record = commands.add_parser(
        "record",
        help="forward a backend's calls to the real Mesibo and record them, redacted, for `verify`",
        description="Listen like the emulator; forward every backend call byte for byte to --upstream, answer"
        " with its answer, and append each call (tokens and files redacted) to --out. The calls are real:"
        " users are made and test pushes count against Mesibo's limit.",
    )
    record.add_argument(
        "--upstream", required=True, help="https://api.mesibo.com/backend, or an on-premise backend"
    )
    record.add_argument(
        "--out", required=True, metavar="FILE", help="the recording to write (never overwritten)"
    )
    record.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    record.add_argument("--port", type=int, default=8000, help="port to listen on; 0 picks a free one (8000)")
    record.add_argument("--timeout", type=float, default=30.0, help="seconds the upstream has to answer (30)")
    verify = commands.add_parser(
        "verify",
        help="replay a recording against the emulator and compare the answers field by field",
        description="Replay FILE's calls in order against a fresh app (of a throw-away emulator, or the one at"
        " --url) with the clock moved as the recording's was; print each call's differences and"
        " 'N calls, M match, K differ'. Exit status 1 when a field not --skip'ped differs.",
    )
    verify.add_argument("file", metavar="FILE")
    verify.add_argument("--url", help="an emulator to replay against (its clock is moved, then put back)")
    verify.add_argument("--admin-token", help="that emulator's MESIBO_MOCK_ADMIN_TOKEN, if it has one")
    verify.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="PATH",
        help="a field not to compare, such as answer.user.name (repeatable)",
    )
    verify.add_argument("--json", action="store_true", help="the report as a JSON document")
    verify.add_argument(
        "--mode", choices=["cloud", "onprem"], default="cloud", help="the throw-away emulator's mode"
    )
    return parser


def check_ready_file(path: str | None) -> None:
    """Its folder must exist (exit 2 before the port is taken); a file left by an earlier run goes, so
    that a client waiting for it never reads a stale address."""
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"invalid --ready-file {path}: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise UsageError(f"invalid --ready-file {path}: it is a folder")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def ready_record(host: str, port: int, app_token: str) -> dict:
    """What a client of any language needs to use a server that has just started."""
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    base = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
    return {
        "url": base,
        "backend_url": base + "/backend",
        "app_token": app_token,
        "pid": os.getpid(),
        "version": __version__,
    }


def announce_ready(record: dict, path: str | None) -> None:
    """The ready line (the first on stdout, at every log level) and, atomically, the ready file."""
    text = json.dumps(record)
    if path is not None:
        partial = f"{path}.{os.getpid()}.partial"
        with open(partial, "w") as fh:
            fh.write(text + "\n")
        os.replace(partial, path)  # a reader sees the whole object or nothing
    sys.stdout.write(f"mesibo-mock ready {text}\n")
    sys.stdout.flush()


def load_settings(args: argparse.Namespace) -> Settings:
    overrides = {
        key: value for key, value in vars(args).items() if key in Settings.model_fields and value is not None
    }
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "setting"
        flag = f"--{name.replace('_', '-')}" if name in overrides else f"MESIBO_MOCK_{name.upper()}"
        raise UsageError(f"invalid {flag}: {err['msg']}") from None


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(scrub_keys)
        handler.addFilter(redact_url_secrets)
    logging.getLogger("mesibo_mock.token").setLevel(logging.INFO)  # the app token line, always
    logging.getLogger("uvicorn.access").addFilter(redact_query_secrets)
    # httpx logs every request's URL at INFO, query string and all (the recorder's upstream calls)
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))


QUERY_PAIR = re.compile(r"(?<=[?&;])([^=&;\s]+)=([^&;\s]*)")
# Query parameters never shown: the app token under any spelling (`Token`, `token[x]`), the admin
# token of the dashboard's link, and a credential pasted as `file=`.
SECRET_PARAMS = re.compile(r"(?i)^(token|admin_token|file)([.\[].*)?$")


def _redact_pair(match: re.Match) -> str:
    # by the name and value as the server reads them: `admin%5Ftoken` is admin_token too
    name, value = unquote_plus(match.group(1)), unquote_plus(match.group(2))
    if SECRET_PARAMS.match(name.strip()) or holds_key(value):  # ` token` is a token, as the journal reads it
        return f"{match.group(1)}=[redacted]"
    return match.group(0)


def redact_query_secrets(record: logging.LogRecord) -> bool:
    """The access log never shows a token or a key sent in the query string (`/api.php?token=...`,
    the dashboard's `?admin_token=...`), however its name is spelt."""
    if isinstance(record.args, tuple):
        record.args = tuple(
            QUERY_PAIR.sub(_redact_pair, arg) if isinstance(arg, str) and "=" in arg else arg
            for arg in record.args
        )
    return True


def redact_url_secrets(record: logging.LogRecord) -> bool:
    """No log line, whoever wrote it, shows a token or key sent in a URL's query string (`?token=`)."""
    message = record.getMessage()
    if "=" in message and "?" in message:
        redacted = QUERY_PAIR.sub(_redact_pair, message)
        if redacted != message:
            record.msg, record.args = redacted, None
    return True


def scrub_keys(record: logging.LogRecord) -> bool:
    """No log line ever holds a PEM private-key block, whoever wrote it."""
    message = record.getMessage()
    if KEY_MARK in message:
        record.msg, record.args = scrub(message), None
    return True


def uvicorn_config(api, settings: Settings, **extra):
    """The server settings `mesibo-mock serve` and MesiboMock share: deadlines, the connection cap."""
    import uvicorn

    from mesibo_mock.backend.replies import bad_http_answer, slow_body_answer
    from mesibo_mock.server.guards import connection_cap

    kind = protocol_kind(settings.http)
    return uvicorn.Config(
        api,
        log_level=settings.log_level,
        access_log=settings.log_level in ("info", "debug"),
        timeout_graceful_shutdown=8,
        log_config=None,
        http=guarded_protocol(
            settings.header_timeout,
            settings.body_timeout,
            slow_body_answer,
            kind,
            bad_http_answer,
            settings.max_header_bytes,
        ),
        loop="auto" if kind == "httptools" else "asyncio",  # uvloop with httptools, where installed
        ws="none",  # no route is a WebSocket: an Upgrade to one is ignored like any other offer
        # a call's source address is the TCP peer's; a proxy's header counts only where it is trusted
        # (MESIBO_MOCK_TRUSTED_PROXIES, read by the backend), never by uvicorn's loopback default
        proxy_headers=False,
        limit_concurrency=connection_cap(settings.max_connections),
        **extra,
    )


def serve(settings: Settings, ready_file: str | None = None, parent_pid: int | None = None) -> int:
    import uvicorn

    from mesibo_mock.errors import SeedError
    from mesibo_mock.lifecycle import open_runtime, start_runtime
    from mesibo_mock.main import serving_app
    from mesibo_mock.store.db import StoreError

    configure_logging(settings.log_level)
    check_ready_file(ready_file)
    check_parent(parent_pid)
    # Flags (above), the seed file and the database path are checked before the port is taken, so
    # each mistake is reported as itself even when the port is busy (SPEC section 1); nothing of the
    # user's is written to the store until the port is ours.
    try:
        rt = open_runtime(settings)
    except (StoreError, SeedError) as exc:
        raise UsageError(str(exc)) from None
    try:
        sock = bind(settings.host, settings.port)
    except UsageError:
        rt.store.close()
        raise
    try:
        start_runtime(rt)
    except (StoreError, SeedError) as exc:
        sock.close()
        raise UsageError(str(exc)) from None
    host, port = sock.getsockname()[:2]
    logging.getLogger("mesibo_mock").info(
        "mesibo-mock %s (%s mode, %s) listening on http://%s:%d  backend: http://%s:%d/backend",
        __version__,
        settings.mode,
        protocol_kind(settings.http),
        host,
        port,
        host,
        port,
    )
    api = serving_app(rt)
    config = uvicorn_config(api, settings)
    server = clean_exit_server(uvicorn.Server)(config)
    server.on_exit = rt.stop  # pending long-polls answer at once, so the exit is quick

    def ready() -> None:
        announce_ready(ready_record(host, port, rt.default_token), ready_file)
        finish_start(api.app, asyncio.get_running_loop())
        if parent_pid is not None:
            watch_parent(asyncio.get_running_loop(), parent_pid, lambda: parent_gone(server, parent_pid))

    server.on_ready = ready
    try:
        with asyncio.Runner(loop_factory=event_loop_factory(protocol_kind(settings.http))) as runner:
            runner.run(server.serve(sockets=[sock]))
    finally:
        rt.store.close()
        if ready_file is not None:
            with contextlib.suppress(OSError):
                os.unlink(ready_file)
    return 0


# The collector stays off (see __main__) until the warm-up has declared every /_mock route, the last of
# the start-up's long-lived objects, or this long after the ready line if /_mock requests keep it waiting.
COLLECTOR_OFF_AT_MOST = 5.0


def finish_start(api, loop: asyncio.AbstractEventLoop):
    """After the ready line: the /_mock routes declared in a thread while the client gets going, then the
    collector on (or at the latest COLLECTOR_OFF_AT_MOST later); -> the thread."""
    from mesibo_mock.main import warm_up

    loop.call_later(COLLECTOR_OFF_AT_MOST, start_collecting)
    return warm_up(api, then=start_collecting)


def start_collecting() -> None:
    """The cyclic collector on again, start-up over: what the start made lives as long as the process, so
    it is frozen first, never to be scanned again. Safe to call twice and from any thread."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def parent_gone(server, pid: int) -> None:
    logging.getLogger("mesibo_mock").warning("process %d has ended (--parent-pid): stopping", pid)
    server.handle_exit(signal.SIGTERM, None)


def record(args: argparse.Namespace) -> int:
    """`mesibo-mock record`: 0 when stopped by a signal."""
    import uvicorn

    from mesibo_mock.parity.record import Recorder, open_out, upstream_base

    configure_logging("info")
    try:
        upstream_base(args.upstream)
        out = open_out(args.out)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        sock = bind(args.host, args.port)
    except UsageError:
        out.close()
        os.unlink(args.out)
        raise
    recorder = Recorder(args.upstream, out, timeout=args.timeout)
    host, port = sock.getsockname()[:2]
    # The recorder stands where the emulator stands, so it reads what every HTTP stack sends as the
    # emulator does (an h2c offer, a bounded header section): the same protocol and guards.
    kind = protocol_kind("auto")
    config = uvicorn.Config(
        recorder,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=8,
        lifespan="on",
        http=guarded_protocol(10.0, args.timeout, kind=kind),
        ws="none",
    )
    server = clean_exit_server(uvicorn.Server)(config)
    shown = ready_record(host, port, "")

    def ready() -> None:
        announced = {
            "url": shown["url"],
            "backend_url": shown["backend_url"],
            "upstream": args.upstream,
            "out": os.path.abspath(args.out),
            "pid": os.getpid(),
        }
        print("mesibo-mock record ready " + json.dumps(announced), flush=True)
        start_collecting()  # a recording session can last hours: its garbage must be collected

    server.on_ready = ready
    logging.getLogger("mesibo_mock").warning(
        "recording to %s: every call goes to %s for real (users are made, test pushes count against Mesibo's limit)",
        args.out,
        args.upstream,
    )
    try:
        with asyncio.Runner(loop_factory=event_loop_factory(kind)) as runner:
            runner.run(server.serve(sockets=[sock]))
    finally:
        out.close()
    return 0


def verify(args: argparse.Namespace) -> int:
    """`mesibo-mock verify`: 0 when every compared field matches, 1 when one not skipped differs."""
    from mesibo_mock.parity.recording import RecordingError
    from mesibo_mock.parity.verify import verify as run

    start_collecting()
    # SIGTERM and SIGHUP end verify as SIGINT does: through its cleanup, so the throw-away emulator
    # it started ends with it (and --parent-pid ends that one even when verify is killed outright)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    try:
        report = run(args.file, url=args.url, admin_token=args.admin_token, skips=args.skip, mode=args.mode)
    except RecordingError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(report.document(), indent=2) if args.json else report.text())
    return 1 if report.summary["differ"] else 0


def _exit_on_signal(sig: int, _frame) -> None:
    raise SystemExit(128 + sig)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "record":
            return record(args)
        if args.command == "verify":
            return verify(args)
        if args.command != "serve":
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        settings = load_settings(args)
        return serve(settings, args.ready_file, args.parent_pid)
    except UsageError as exc:
        print(f"mesibo-mock: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
