"""`mesibo-mock verify FILE`: replay a recording's calls, in order, against a fresh app of an emulator,
with the clock frozen at the recording's start and moved as the recording's times moved, and compare each
answer with the one the upstream gave, field by field.

Both answers are normalised alike before they are compared: ids (`uid`, `gid`, `mid`), tokens and times
stand for themselves only. Ids the upstream answered are mapped to the emulator's in later calls, so a
`groupadd` answered gid 1312 upstream and 7 here sends its later `message` to 7.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from mesibo_mock.parity import recording

ID_KEYS = ("uid", "gid", "mid")
TOKEN_KEYS = frozenset({"token"})
TIME_KEYS = frozenset(
    {"ts", "ats", "ets", "lastonline", "cts", "expires", "expiry_time", "start", "end", "next_allowed"}
)
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
PLACEHOLDER = re.compile(r"^<(app|user)-token-\d+>$")
ABSENT = "(absent)"
SAMPLE_FOR = {".json": "fcm.json", ".p12": "apn-universal.p12"}


@dataclass
class Difference:
    path: str
    recorded: Any
    emulated: Any
    skipped: bool = False

    def text(self) -> str:
        def shown(value: Any) -> str:
            return ABSENT if value is _MISSING else json.dumps(value, ensure_ascii=False)[:200]

        mark = " (skipped)" if self.skipped else ""
        return f"{self.path}: {shown(self.recorded)} vs {shown(self.emulated)}{mark}"


@dataclass
class Checked:
    seq: int
    method: str
    path: str
    op: str | None
    differences: list[Difference] = field(default_factory=list)
    not_replayed: str | None = None

    @property
    def differs(self) -> bool:
        return any(not d.skipped for d in self.differences)


@dataclass
class Report:
    recording: str
    target: str
    checked: list[Checked]
    skipped: list[str] = field(default_factory=list)  # lines of the file read past, and why

    @property
    def summary(self) -> dict[str, int]:
        replayed = [c for c in self.checked if c.not_replayed is None]
        differ = sum(c.differs for c in replayed)
        return {"calls": len(replayed), "match": len(replayed) - differ, "differ": differ}

    def text(self) -> str:
        lines = [f"mesibo-mock verify {self.recording} against {self.target}"]
        lines += [f"{self.recording}: {why}" for why in self.skipped]
        for c in self.checked:
            head = f"#{c.seq} {c.method} {c.path} {c.op or '-'}"
            if c.not_replayed is not None:
                lines.append(f"{head}: not replayed ({c.not_replayed})")
                continue
            if not c.differences:
                lines.append(f"{head}: match")
                continue
            unskipped = sum(not d.skipped for d in c.differences)
            lines.append(
                f"{head}: {unskipped} difference(s)"
                if unskipped
                else f"{head}: match (skipped fields differ)"
            )
            lines += [f"    {d.text()}" for d in c.differences]
        s = self.summary
        lines.append(f"{s['calls']} calls, {s['match']} match, {s['differ']} differ")
        return "\n".join(lines)

    def document(self) -> dict:
        return {
            "recording": self.recording,
            "target": self.target,
            "calls": [
                {
                    "seq": c.seq,
                    "method": c.method,
                    "path": c.path,
                    "op": c.op,
                    "match": not c.differs if c.not_replayed is None else None,
                    "not_replayed": c.not_replayed,
                    "differences": [
                        {
                            "path": d.path,
                            "recorded": None if d.recorded is _MISSING else d.recorded,
                            "emulated": None if d.emulated is _MISSING else d.emulated,
                            "absent": "recorded"
                            if d.recorded is _MISSING
                            else "emulated"
                            if d.emulated is _MISSING
                            else None,
                            "skipped": d.skipped,
                        }
                        for d in c.differences
                    ],
                }
                for c in self.checked
            ],
            "skipped": self.skipped,
            "summary": self.summary,
        }


_MISSING = object()


# --- normalising and comparing ---------------------------------------------------------------------------
def normalise(value: Any, key: str | None = None) -> Any:
    """The same on both sides for what is not meant to match: ids, tokens, times."""
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if key in ID_KEYS and (isinstance(value, int) or isinstance(value, str) and value.isdigit()):
        return "<id>"
    if key in TOKEN_KEYS and isinstance(value, str) and value:
        return "<token>"
    if key in TIME_KEYS and isinstance(value, int | float | str) and not isinstance(value, bool):
        return "<time>"
    if isinstance(value, str):
        if PLACEHOLDER.match(value):
            return "<token>"
        return ISO_TIME.sub("<time>", value)
    return value


def differences(recorded: Any, emulated: Any, path: str) -> list[Difference]:
    """Field by field, on the normalised values; each difference shows the values as answered."""
    found: list[Difference] = []
    _diff(recorded, emulated, normalise(recorded), normalise(emulated), path, found)
    return found


def _diff(raw_a: Any, raw_b: Any, a: Any, b: Any, path: str, out: list[Difference]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            _diff(
                raw_a.get(key, _MISSING),
                raw_b.get(key, _MISSING),
                a.get(key, _MISSING),
                b.get(key, _MISSING),
                f"{path}.{key}" if path else str(key),
                out,
            )
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(raw_a[i], raw_b[i], x, y, f"{path}.{i}", out)
    elif a != b:
        out.append(Difference(path, raw_a, raw_b))


def skipped(path: str, skips: list[str]) -> bool:
    """`--skip answer.user.name` skips that field and what is under it; `*` stands for one step."""
    for skip in skips:
        pattern = "^" + re.escape(skip).replace(r"\*", r"[^.]+") + r"(\..*)?$"
        if re.match(pattern, path):
            return True
    return False


# --- replaying ------------------------------------------------------------------------------------------------
class IdMap:
    """uid, gid and mid the upstream answered -> the emulator's, learnt from each pair of answers."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, int], Any] = {}

    def learn(self, recorded: Any, emulated: Any, key: str | None = None) -> None:
        if isinstance(recorded, dict) and isinstance(emulated, dict):
            for k, v in recorded.items():
                if k in emulated:
                    self.learn(v, emulated[k], k)
        elif isinstance(recorded, list) and isinstance(emulated, list):
            for x, y in zip(recorded, emulated, strict=False):
                self.learn(x, y, key)
        elif key in ID_KEYS and _whole(recorded) is not None and _whole(emulated) is not None:
            self.ids[(key, _whole(recorded))] = _whole(emulated)

    def apply(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: self.apply(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.apply(v, key) for v in value]
        number = _whole(value) if key in ID_KEYS else None
        if number is not None and (key, number) in self.ids:
            mapped = self.ids[(key, number)]
            return str(mapped) if isinstance(value, str) else mapped
        return value


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def dead_tokens(calls: list[dict]) -> set[str]:
    """App-token placeholders the upstream refused every time (AUTHFAIL): replayed as an unknown token."""
    used: dict[str, bool] = {}
    for call in calls:
        token = call.get("fields", {}).get("token")
        if not isinstance(token, str) or not token.startswith("<app-token-"):
            continue
        body = (call.get("answer") or {}).get("body")
        refused = isinstance(body, dict) and body.get("error") == "AUTHFAIL"
        used[token] = used.get(token, True) and refused
    return {token for token, refused in used.items() if refused}


def substitute(value: Any, tokens: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: substitute(v, tokens) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, tokens) for v in value]
    if isinstance(value, str) and value in tokens:
        return tokens[value]
    return value


def flat(fields: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Nested fields as the flat pairs a form or a query string carries (`push[address]=1`)."""
    pairs: list[tuple[str, str]] = []
    for key, value in fields.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            pairs += flat(value, name)
        elif isinstance(value, list):
            pairs.append((name, json.dumps(value)))
        elif isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif value is not None:
            pairs.append((name, str(value)))
    return pairs


def is_file_summary(value: Any) -> bool:
    return isinstance(value, dict) and {"size", "sha256", "kind"} <= set(value)


class Target:
    """The emulator to replay against: a throw-away one of its own, or the one at `url`."""

    def __init__(self, url: str | None, admin_token: str | None, mode: str) -> None:
        self.process: subprocess.Popen | None = None
        self.folder: str | None = None
        if url is None:
            url = self._spawn(mode)
        self.url = url.rstrip("/").removesuffix("/backend")
        headers = {"authorization": f"Bearer {admin_token}"} if admin_token else {}
        self.client = httpx.Client(base_url=self.url, timeout=70, headers=headers, trust_env=False)

    def _spawn(self, mode: str) -> str:
        self.folder = tempfile.mkdtemp(prefix="mesibo-mock-verify-")
        ready = os.path.join(self.folder, "ready.json")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MESIBO_MOCK_")}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mesibo_mock",
                "serve",
                "--port",
                "0",
                "--db",
                ":memory:",
                "--mode",
                mode,
                "--log-level",
                "warning",
                "--ready-file",
                ready,
                "--parent-pid",  # gone with verify, however verify ends (SIGKILL too)
                str(os.getpid()),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        deadline = time.monotonic() + 30
        while not os.path.exists(ready):
            if self.process.poll() is not None or time.monotonic() > deadline:
                err = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.poll() is not None
                    else ""
                )
                self.close()
                raise recording.RecordingError(
                    f"the emulator to verify against did not start: {err.strip()[-500:]}"
                )
            time.sleep(0.02)
        with open(ready) as fh:
            return json.load(fh)["url"]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def verify(
    path: str,
    url: str | None = None,
    admin_token: str | None = None,
    skips: list[str] | None = None,
    mode: str = "cloud",
) -> Report:
    """Replay `path`'s calls; RecordingError for a recording that cannot be read or an emulator that
    cannot be reached."""
    rec = recording.read(path)
    skips = list(skips or [])
    target = Target(url, admin_token, mode)
    app_token = None
    try:
        try:
            app = target.client.post("/_mock/apps", json={"name": f"verify {os.path.basename(path)}"[:200]})
            app.raise_for_status()
        except httpx.HTTPError as exc:
            raise recording.RecordingError(
                f"cannot make an app on the emulator at {target.url}: {exc}"
            ) from None
        app_token = app.json()["token"]
        started = float(rec.header.get("started_epoch") or time.time())
        clock_of(target, {"freeze": True})
        clock_of(target, {"set": iso(started)})
        dead = dead_tokens(rec.calls)
        tokens = {
            p: (f"verify-unknown-token-{i}" if p in dead else app_token)
            for i, p in enumerate(_placeholders(rec.calls))
        }
        ids = IdMap()
        samples: dict[str, bytes] = {}
        checked = [replay(target, call, started, tokens, ids, samples, skips) for call in rec.calls]
        return Report(path, "a throw-away emulator" if url is None else target.url, checked, rec.skipped)
    finally:
        if url is not None:
            with contextlib.suppress(Exception):
                clock_of(target, {"real": True})
                if app_token:
                    target.client.delete(f"/_mock/apps/{app_token}")
        target.close()


def clock_of(target: Target, body: dict) -> None:
    target.client.post("/_mock/clock", json=body).raise_for_status()


def _placeholders(calls: list[dict]) -> list[str]:
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif (
            isinstance(value, str)
            and value.startswith("<app-token-")
            and recording.APP_TOKEN.match(value)
            and value not in found
        ):
            found.append(value)

    for call in calls:
        walk(call.get("fields"))
    return found


def replay(
    target: Target, call: dict, started: float, tokens: dict, ids: IdMap, samples: dict, skips: list[str]
) -> Checked:
    fields = call.get("fields") or {}
    op = fields.get("op") if isinstance(fields.get("op"), str) else None
    checked = Checked(
        int(call.get("seq", 0)), str(call.get("method", "POST")), str(call.get("path", "/backend")), op
    )
    if "error" in call:
        checked.not_replayed = f"the upstream did not answer: {call['error']}"
        return checked
    if call.get("encoding") == "unreadable":
        checked.not_replayed = "the recorder could not read this call's fields"
        return checked
    clock_of(target, {"set": iso(started + float(call.get("t", 0)))})
    fields = ids.apply(substitute(fields, tokens))
    response = send(target, checked.method, checked.path, call.get("encoding", "json"), fields, samples)
    recorded = call["answer"]
    try:
        emulated_body: Any = response.json()
    except ValueError:
        emulated_body = response.text
    ids.learn(recorded.get("body"), emulated_body)
    found = []
    if recorded.get("status") != response.status_code:
        found.append(Difference("status", recorded.get("status"), response.status_code))
    found += differences(recorded.get("body"), emulated_body, "answer")
    for difference in found:
        difference.skipped = skipped(difference.path, skips)
    checked.differences = found
    return checked


def send(
    target: Target, method: str, path: str, encoding: str, fields: dict, samples: dict
) -> httpx.Response:
    files = {}
    for key, value in list(fields.items()):
        if is_file_summary(value):  # the file itself was never kept: a sample of the same kind stands in
            name = value.get("name") or (
                "credential.p12" if value.get("type") == "application/x-pkcs12" else "credential.json"
            )
            sample = SAMPLE_FOR.get(os.path.splitext(name)[1].lower(), "fcm.json")
            if sample not in samples:
                samples[sample] = target.client.get(f"/_mock/samples/{sample}").content
            files[key] = (name, samples[sample])
            del fields[key]
    if encoding == "multipart" or files:
        parts = [(k, (None, v)) for k, v in flat(fields)] + list(files.items())
        return target.client.request(method, path, files=parts)
    if encoding == "form":
        return target.client.request(
            method,
            path,
            content=urlencode(flat(fields)),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    if encoding == "query":
        return target.client.request(method, path, params=flat(fields))
    return target.client.request(method, path, json=fields)
