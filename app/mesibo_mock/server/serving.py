"""Listening and stopping, shared by the CLI and the benchmark's baseline app: no heavy imports."""

from __future__ import annotations

import errno
import os
import signal
import socket


class UsageError(Exception):
    """Printed as one line; exit status 2."""


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this; without it a keep-alive client waits 40 ms per answer
    # (Nagle against delayed ACK), because uvicorn does not set it on sockets it is handed.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}{bind_hint(exc, port)}"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def bind_hint(exc: OSError, port: int) -> str:
    """The way out of the two usual failures: another server on the port, a port that needs root."""
    if exc.errno == errno.EADDRINUSE:
        return (
            f" (another server, perhaps an earlier mesibo-mock, holds port {port}: stop it, or choose"
            " another with --port or MESIBO_MOCK_PORT, or --port 0 for any free one; the port chosen"
            " is logged)"
        )
    if exc.errno == errno.EACCES and 0 < port < 1024:
        return f" (ports below 1024 need root: choose one above, such as {port + 8000})"
    return ""


def clean_exit_server(base: type) -> type:
    class Server(base):
        """SIGTERM/SIGINT: finish in-flight requests and exit 0, instead of re-raising the signal (143)."""

        on_exit = None  # called at the first signal: the app ends what would hold the exit up
        on_ready = None  # called once the server accepts connections

        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if self.on_ready is not None and self.started and not self.should_exit:
                self.on_ready()

        def handle_exit(self, sig: int, frame) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            else:
                self.should_exit = True
                if self.on_exit is not None:
                    self.on_exit()

    return Server


def event_loop_factory(kind: str):
    """With httptools, uvloop's loop where it installed (as uvicorn's `loop="auto"`); h11, the pure-Python
    stack (where neither installs), runs on asyncio's own."""
    if kind != "httptools":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, but another user's
        return True
    return True


def check_parent(pid: int | None) -> None:
    """`--parent-pid`: the process must be there when the server starts (exit 2 before the port)."""
    if pid is not None and (pid <= 0 or not process_alive(pid)):
        raise UsageError(f"invalid --parent-pid {pid}: no such process")


PARENT_POLL_SECONDS = 0.5


def watch_parent(loop, pid: int, on_gone) -> None:
    """Call `on_gone` once the process `pid` has ended, however it ended (SIGKILL too): at once where
    Linux gives a pidfd for it, else within PARENT_POLL_SECONDS. Call from within the running loop."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux 5.3+, or not allowed: look twice a second
        fd = None
    if fd is not None:

        def readable() -> None:
            loop.remove_reader(fd)
            os.close(fd)
            on_gone()

        loop.add_reader(fd, readable)
        return

    def look() -> None:
        if process_alive(pid):
            loop.call_later(PARENT_POLL_SECONDS, look)
        else:
            on_gone()

    loop.call_later(PARENT_POLL_SECONDS, look)
