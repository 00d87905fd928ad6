"""Replay the shell examples of the README and of the reference pages in docs/, each page in order
against a fresh server of its own.

Every ```sh block that calls the server (`curl`) is run command by command with bash and curl, with
the README's set-up (`MESIBO_MOCK_APP_TOKEN`, `PORT`) and its variables (`T` the app token, `B` the
backend URL, `M` the /_mock URL) pointing at the server under test. Where a page prints an answer (a
`# ...` line of JSON right after a command), the real answer must equal it, ignoring only tokens, ids
and times.

    python -m tests.readme_replay          # print every command and its real answer
    python -m tests.readme_replay --fill   # write the real answers into the pages (then read the diff)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [
    README,
    ROOT / "docs" / "backend.md",
    ROOT / "docs" / "mock-api.md",
]  # each replayed on its own server
README_URL = "http://127.0.0.1:8000"
TOKEN = "dev-token"  # the README's `export MESIBO_MOCK_APP_TOKEN=dev-token`
IGNORED_KEYS = {"token", "app", "app_token", "otp", "push_token"}  # values that are random by nature
ID_KEYS = {"id", "uid", "gid", "mid", "device", "push_id", "follows"}
TIME_KEYS = {
    "ts",
    "expiry",
    "start",
    "end",
    "next_allowed",
    "now",
    "lastonline",
    "expires",
    "created",
    "retry_after",
    "cts",
    "ats",
    "ets",
}
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
LONG_HEX = re.compile(r"[0-9a-fA-F]{16,}")
LONG_NUMBER = re.compile(r"\d{10,}")


@dataclass
class Step:
    command: str
    expected: str | None  # the JSON the page prints after it, if any
    line: int
    expected_line: int | None = None  # where that answer is, for --fill
    page: str = "README.md"


def printed_answer(line: str) -> str | None:
    """`# {...}` (or any JSON) right after a command is its printed answer; other comments are prose."""
    if not line.startswith("# "):
        return None
    text = line[2:]
    try:
        json.loads(text)
    except ValueError:
        return None
    return text


def steps(text: str | None = None, page: Path = README) -> list[Step]:
    """Every command of a page's server-calling sh blocks, in order, with its printed answer."""
    text = page.read_text() if text is None else text
    found: list[Step] = []
    for block in re.finditer(r"^```sh\n(.*?)^```", text, re.S | re.M):
        body = block.group(1)
        if "curl" not in body:
            continue
        first_line = text[: block.start()].count("\n") + 2
        lines = body.splitlines()
        i = 0
        while i < len(lines):
            line, number = lines[i], first_line + i
            i += 1
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            command = line
            while command.endswith("\\") and i < len(lines):
                command = command[:-1] + " " + lines[i].strip()
                i += 1
            expected = expected_line = None
            if i < len(lines) and printed_answer(lines[i]) is not None:
                expected, expected_line = printed_answer(lines[i]), first_line + i
                i += 1
            found.append(Step(command, expected, number, expected_line, page.name))
    return found


def normalize(value, key: str | None = None):
    if isinstance(value, dict):
        return {k: normalize(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if key in IGNORED_KEYS and value is not None:
        return "<random>"
    if key in ID_KEYS and isinstance(value, int):
        return "<id>"
    if key in TIME_KEYS and value is not None:
        return "<time>"
    if isinstance(value, str):
        value = ISO_TIME.sub("<time>", value)
        value = LONG_HEX.sub("<hex>", value)
        return LONG_NUMBER.sub("<number>", value)
    return value


def run(step: Step, base_url: str, token: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "MESIBO_MOCK_APP_TOKEN": token,
        "PORT": base_url.rsplit(":", 1)[1],
        "T": token,
        "B": f"{base_url}/backend",
        "M": f"{base_url}/_mock",
    }
    command = step.command.replace(README_URL, base_url)
    done = subprocess.run(
        ["bash", "-c", command], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise AssertionError(f"{step.page} line {step.line}: `{step.command}` failed: {done.stderr.strip()}")
    return done.stdout.strip()


def compare(step: Step, actual: str) -> str | None:
    """None when the real answer is the one the README prints; else what differs."""
    if step.expected is None:
        return None
    try:
        want, got = json.loads(step.expected), json.loads(actual)
    except ValueError as exc:
        return f"{step.page} line {step.line}: not JSON ({exc}): page {step.expected!r}, real {actual!r}"
    if normalize(want) != normalize(got):
        return f"{step.page} line {step.line}: `{step.command}`\n  page: {step.expected}\n  real: {actual}"
    return None


def replay(page: Path) -> list[tuple[Step, str]]:
    """Run a page's commands in order on a fresh server of its own: -> (step, real answer)."""
    from mesibo_mock.testing import MesiboMock

    with MesiboMock(subprocess=True, app_token=TOKEN) as mock:  # fresh, as a newcomer's server is
        return [(step, run(step, mock.url, mock.app_token, ROOT)) for step in steps(page=page)]


def main(fill: bool) -> None:
    for page in PAGES:
        lines = page.read_text().split("\n")
        for step, out in replay(page):
            print(f"$ {step.command}\n# {out}" if out else f"$ {step.command}")
            if compare(step, out):
                print(f"  ^^^ differs from {page.name}")
                if fill and step.expected_line is not None:
                    lines[step.expected_line - 1] = "# " + out
        if fill:
            page.write_text("\n".join(lines))


if __name__ == "__main__":
    import sys

    main("--fill" in sys.argv)
