"""Parse credential files in a short-lived child process.

Uploaded files are untrusted binary input for OpenSSL. Parsing them in a child keeps the server
process free of OpenSSL and of every private key (only metadata comes back), means a crash or a
hang in the parser cannot take the server down, and spares the server the ~11 MB that loading
`cryptography` costs, for the sake of an operation done a few times per test run.

The child is worker.py beside this file, run as the module `mesibo_mock.credentials.worker` in isolated
mode (`-I`: no current directory, no PYTHON* variables, no user site on its path), so that nothing in
the server's working directory can stand in for it; as a module, not by its path, so coverage's
measure of the child counts it as the package's own. Protocol: JSON on stdin `{"now": float, "files": [{"kind": "fcm"|"apn", "data": base64}]}`, JSON
on stdout `{"results": [{"credential": {...}} | {"error": "..."}]}`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import resource
import subprocess
import sys

from mesibo_mock.credentials import CredentialError, ParsedCredential, SamplesUnavailable
from mesibo_mock.credentials.der import DerError, largest_iteration_count

TIMEOUT_SECONDS = 30
MAX_ITERATIONS = 1_000_000  # Keychain and OpenSSL export with 2,048; PBKDF2 exports use up to ~600,000
CPU_SECONDS = 10  # what one parser child may spend
MEMORY_BYTES = 512 * 1024 * 1024


def _budget() -> None:
    """In the child, before it runs: a ceiling on its CPU time and memory (a hostile file hits it)."""
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def check_cost(kind: str, data: bytes) -> None:
    """Refuse a .p12 that asks for an absurd iteration count, before OpenSSL sees it."""
    if kind != "apn":
        return
    try:
        iterations = largest_iteration_count(data)
    except DerError:
        return  # not a readable PKCS#12 structure: the parser says so, quickly
    if iterations > MAX_ITERATIONS:
        raise CredentialError(
            f"the .p12 file asks for {iterations:,} key-derivation iterations (at most {MAX_ITERATIONS:,} are"
            " accepted); export it again from Keychain Access or openssl with the usual settings"
        )


COMMAND = [sys.executable, "-I", "-m", "mesibo_mock.credentials.worker"]


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
    for kind, data in files:
        check_cost(kind, data)
    try:
        done = subprocess.run(
            COMMAND,
            input=_request(files, now),
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            preexec_fn=_budget,
        )
    except subprocess.TimeoutExpired:
        raise CredentialError(f"the credential parser took longer than {TIMEOUT_SECONDS} s") from None
    return _results(done.stdout, done.returncode)


async def parse_file(kind: str, data: bytes, now: float, slots: asyncio.Semaphore) -> ParsedCredential:
    """Non-blocking: other requests go on while the child parses. At most `slots` children run at once;
    the other uploads wait their turn. Raises CredentialError."""
    check_cost(kind, data)
    async with slots:
        return await _parse_in_child(kind, data, now)


async def _parse_in_child(kind: str, data: bytes, now: float) -> ParsedCredential:
    stdout, returncode = await _in_child(_request([(kind, data)], now))
    [result] = _results(stdout, returncode)
    if isinstance(result, CredentialError):
        raise result
    return result


async def make_samples(names: list[str]) -> tuple[dict[str, bytes], dict[str, dict]]:
    """The sample files named (credentials.SAMPLES), made in one child as `mesibo_mock.samples` makes
    them, and what the parser reads of each ({"credential": ...} or {"error": ...}, whatever the clock):
    the server itself never loads `cryptography`."""
    stdout, _ = await _in_child(json.dumps({"make": names}).encode())
    try:
        answer = json.loads(stdout)
        made = {name: base64.b64decode(answer["samples"][name]) for name in names}
        parsed = {name: dict(answer["parsed"][name]) for name in names}
    except (ValueError, KeyError, TypeError):
        raise SamplesUnavailable("the sample credentials could not be made") from None
    return made, parsed


async def _in_child(request: bytes) -> tuple[bytes, int]:
    """Run the worker on one request, within its deadline; -> (its stdout, its exit status)."""
    child = await asyncio.create_subprocess_exec(
        *COMMAND,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        preexec_fn=_budget,
    )
    try:
        stdout, _ = await asyncio.wait_for(child.communicate(request), TIMEOUT_SECONDS)
    except TimeoutError:
        child.kill()
        await child.wait()
        raise CredentialError(f"the credential parser took longer than {TIMEOUT_SECONDS} s") from None
    return stdout, child.returncode or 0
