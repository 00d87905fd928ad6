"""Parse credential files in a short-lived child process.

Uploaded files are untrusted binary input for OpenSSL. Parsing them in a child keeps the server
process free of OpenSSL and of every private key (only metadata comes back), means a crash or a
hang in the parser cannot take the server down, and spares the server the ~11 MB that loading
`cryptography` costs, for the sake of an operation done a few times per test run.

The child is worker.py beside this file, run by its absolute path in isolated mode (`-I`: no current
directory, no PYTHON* variables, no user site on its path), so that nothing in the server's working
directory can stand in for it. Protocol: JSON on stdin `{"now": float, "files": [{"kind": "fcm"|"apn", "data": base64}]}`, JSON
on stdout `{"results": [{"credential": {...}} | {"error": "..."}]}`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from pathlib import Path

from mesibo_mock.credentials import CredentialError, ParsedCredential

TIMEOUT_SECONDS = 30
COMMAND = [sys.executable, "-I", str(Path(__file__).resolve().with_name("worker.py"))]


def _request(files: list[tuple[str, bytes]], now: float) -> bytes:
    items = [{"kind": kind, "data": base64.b64encode(data).decode()} for kind, data in files]
    return json.dumps({"now": now, "files": items}).encode()


def _results(stdout: bytes, returncode: int) -> list[ParsedCredential | CredentialError]:
    try:
        answer = json.loads(stdout)["results"]
    except (ValueError, KeyError, TypeError):
        answer = None
    if returncode != 0 or not isinstance(answer, list):
        raise CredentialError("the credential parser failed on this file")
    return [
        ParsedCredential(**item["credential"]) if "credential" in item else CredentialError(item["error"])
        for item in answer
    ]


def parse_files(files: list[tuple[str, bytes]], now: float) -> list[ParsedCredential | CredentialError]:
    """Blocking: for start-up (the seed), where nothing else waits."""
    try:
        done = subprocess.run(
            COMMAND, input=_request(files, now), capture_output=True, timeout=TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        raise CredentialError(f"the credential parser took longer than {TIMEOUT_SECONDS} s") from None
    return _results(done.stdout, done.returncode)


async def parse_file(kind: str, data: bytes, now: float) -> ParsedCredential:
    """Non-blocking: other requests go on while the child parses. Raises CredentialError."""
    child = await asyncio.create_subprocess_exec(
        *COMMAND,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        stdout, _ = await asyncio.wait_for(child.communicate(_request([(kind, data)], now)), TIMEOUT_SECONDS)
    except TimeoutError:
        child.kill()
        await child.wait()
        raise CredentialError(f"the credential parser took longer than {TIMEOUT_SECONDS} s") from None
    [result] = _results(stdout, child.returncode or 0)
    if isinstance(result, CredentialError):
        raise result
    return result
