"""Sample credentials over HTTP: the files `mesibo_mock.samples` makes, for clients in any language, and
an app given them as pushupload would give them.

Each file is made once per server (in the parser's child: the server never loads `cryptography`) and
parsed once; a Node or PHP suite that makes an app with sample credentials per test pays for neither
again.
"""

from __future__ import annotations

import sqlite3

from mesibo_mock.credentials import (
    DEFAULT_SAMPLE,
    P8_REFUSED,
    SAMPLES,
    CredentialError,
    ParsedCredential,
    isolated,
)
from mesibo_mock.server.runtime import Runtime
from mesibo_mock.services import credentials

_made: dict[str, bytes] = {}
_parsed: dict[str, ParsedCredential] = {}


class UnknownSample(ValueError):
    pass


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
    if name not in _made:  # the first asks for them all: one child makes every key at once
        _made.update(await isolated.make_samples([n for n in SAMPLES if n not in _made] or [name]))
    return _made[name]


async def give(rt: Runtime, app: sqlite3.Row, names: list[str]) -> None:
    """Upload these samples to the app, as pushupload would (source `api`)."""
    for name in names:
        credentials.save(rt, app["id"], await prepare(rt, name), "api", name)


async def prepare(rt: Runtime, name: str) -> ParsedCredential:
    """The sample, made and parsed (once); CredentialError for one pushupload would refuse (the expired
    certificate, the .p8 key)."""
    cached = _parsed.get(name)
    if cached is not None and (cached.expiry is None or cached.expiry > rt.clock.now()):
        return cached
    sample = SAMPLES[name]
    if name.endswith(".p8"):
        raise CredentialError(P8_REFUSED)
    credential = await isolated.parse_file(sample.platform, await file(name), rt.clock.now(), rt.parser_slots)
    _parsed[name] = credential
    return credential
