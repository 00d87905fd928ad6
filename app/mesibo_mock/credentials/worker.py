"""The credential parser's child process (see isolated.py): stdin JSON in, stdout JSON out.

It imports only what parsing needs, to start quickly.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sys

from mesibo_mock.credentials import CredentialError
from mesibo_mock.credentials.apn import parse_apn
from mesibo_mock.credentials.fcm import parse_fcm


def main() -> None:
    request = json.load(sys.stdin)
    if "make" in request:  # sample files, by name (credentials.SAMPLES)
        from mesibo_mock.credentials import SAMPLES, samples

        files = {name: getattr(samples, SAMPLES[name].maker)() for name in request["make"]}
        made = {name: base64.b64encode(data).decode() for name, data in files.items()}
        # and what pushupload reads of each, whatever the clock (expiry is checked where it is used)
        parsed = {name: _parsed(SAMPLES[name].platform, data, 0.0) for name, data in files.items()}
        json.dump({"samples": made, "parsed": parsed}, sys.stdout)
        return
    results = [
        _parsed(item["kind"], base64.b64decode(item["data"]), request["now"]) for item in request["files"]
    ]
    json.dump({"results": results}, sys.stdout)


def _parsed(kind: str, data: bytes, now: float) -> dict:
    """One file's answer: {"credential": its metadata} or {"error": why not}."""
    try:
        parsed = parse_fcm(data) if kind == "fcm" else parse_apn(data, now)
        return {"credential": dataclasses.asdict(parsed)}
    except CredentialError as exc:
        return {"error": str(exc)}
    except Exception as exc:  # any other parser failure is still an answer about this file
        return {"error": f"the file could not be read ({type(exc).__name__})"}


if __name__ == "__main__":
    main()
