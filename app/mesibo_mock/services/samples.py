"""Sample credentials over HTTP: the files `mesibo_mock.samples` makes, for clients in any language, and
an app given them as pushupload would give them.

They are made once per machine (SPEC section 6): the first server to need them makes every one in one
child (the parser's: the server never loads `cryptography`), with what the parser reads of each, and
keeps both in the user's cache folder (`$XDG_CACHE_HOME/mesibo-mock/samples-<version>`, mode 0700).
Requests that arrive meanwhile wait for that one child. A later server reads the cache and starts no
child at all; where the folder cannot be written, the samples live in memory for the server's life.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from mesibo_mock import __version__
from mesibo_mock.credentials import (
    DEFAULT_SAMPLE,
    P8_REFUSED,
    SAMPLES,
    CredentialError,
    ParsedCredential,
    expired,
    isolated,
)
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import credentials

log = logging.getLogger("mesibo_mock.samples")
CACHE_FILE = "samples.json"


class UnknownSample(ValueError):
    pass


class SampleState:
    """The samples of this process: files and what the parser read of each, by name; the lock makes
    concurrent first requests wait for one child."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.parsed: dict[str, dict] = {}
        self.lock: asyncio.Lock | None = None

    async def load(self) -> None:
        if self.files:
            return
        if self.lock is None:
            self.lock = asyncio.Lock()
        async with self.lock:
            if self.files:  # made while this request waited
                return
            cached = read_cache()
            if cached is None:
                began = time.perf_counter()
                cached = await isolated.make_samples(list(SAMPLES))
                where = write_cache(*cached)
                log.info(
                    "made the sample credentials in %.0f ms (%s)",
                    (time.perf_counter() - began) * 1000,
                    f"kept in {where} for later servers" if where else "kept in memory: no cache folder",
                )
            self.files, self.parsed = cached


_state = SampleState()


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mesibo-mock" / f"samples-{__version__}"


def _private(folder: Path) -> bool:
    """The folder is this user's alone: nobody else could have put samples there."""
    try:
        info = folder.stat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & 0o077


def read_cache() -> tuple[dict[str, bytes], dict[str, dict]] | None:
    """The cached samples, or None where there are none (or none to trust: a folder another user could
    write, a file cut short, a sample missing)."""
    import base64

    folder = cache_folder()
    if not _private(folder):
        return None
    try:
        document = json.loads((folder / CACHE_FILE).read_text())
        files = {name: base64.b64decode(document["files"][name]) for name in SAMPLES}
        parsed = {name: dict(document["parsed"][name]) for name in SAMPLES}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return files, parsed


def write_cache(files: dict[str, bytes], parsed: dict[str, dict]) -> Path | None:
    """Keep the samples for later servers, atomically (a reader sees all or nothing); -> the folder, or
    None where it cannot be written (the samples then live in memory only)."""
    import base64

    folder = cache_folder()
    document = {
        "version": __version__,
        "files": {name: base64.b64encode(data).decode() for name, data in files.items()},
        "parsed": parsed,
    }
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)
        if not _private(folder):
            return None
        fd, partial = tempfile.mkstemp(dir=folder, prefix=".samples-")
        with os.fdopen(fd, "w") as fh:
            json.dump(document, fh)
        os.replace(partial, folder / CACHE_FILE)
    except OSError:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(partial)
        return None
    return folder


def listing() -> list[dict]:
    return [
        {
            "name": s.name,
            "platform": s.platform,
            "media_type": s.media_type,
            "description": s.description,
            "url": f"/_mock/samples/{s.name}",
        }
        for s in SAMPLES.values()
    ]


def resolve(platform: str, name: str) -> str:
    """'sample' or a sample's name, for `platform` -> the sample's name; UnknownSample says why not."""
    if name == "sample":
        return DEFAULT_SAMPLE[platform]
    sample = SAMPLES.get(name)
    if sample is None:
        raise UnknownSample(f"no sample named {name[:60]!r}; the samples are {', '.join(SAMPLES)}")
    if sample.platform != platform:
        raise UnknownSample(f"{name!r} is an {sample.platform} sample, not {platform}")
    return name


async def file(name: str) -> bytes:
    """The sample's bytes; UnknownSample for a name that is none."""
    if name not in SAMPLES:
        raise UnknownSample(f"no sample named {name[:60]!r}; the samples are {', '.join(SAMPLES)}")
    await _state.load()
    return _state.files[name]


async def give(rt: Runtime, app: sqlite3.Row, names: list[str]) -> None:
    """Upload these samples to the app, as pushupload would (source `api`)."""
    for name in names:
        credentials.save(rt, app["id"], await prepare(rt, name), "api", name)


async def prepare(rt: Runtime, name: str) -> ParsedCredential:
    """The sample as pushupload reads it; CredentialError for one pushupload would refuse: the .p8 key,
    an unreadable one, and a certificate expired by the emulator clock (moved on, a cached sample
    expires as an uploaded one would)."""
    if name.endswith(".p8"):
        raise CredentialError(P8_REFUSED)
    await _state.load()
    read = _state.parsed[name]
    if "error" in read:
        raise CredentialError(read["error"])
    credential = ParsedCredential(**read["credential"])
    if credential.expiry is not None and credential.expiry <= rt.clock.now():
        raise expired(credential.expiry)
    return credential
