"""Listening and stopping, shared by the CLI and the benchmark's baseline app: no heavy imports."""

from __future__ import annotations

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
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def clean_exit_server(base: type) -> type:
    class Server(base):
        """SIGTERM/SIGINT: finish in-flight requests and exit 0, instead of re-raising the signal (143)."""

        on_exit = None  # called at the first signal: the app ends what would hold the exit up

        def handle_exit(self, sig: int, frame) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            else:
                self.should_exit = True
                if self.on_exit is not None:
                    self.on_exit()

    return Server
