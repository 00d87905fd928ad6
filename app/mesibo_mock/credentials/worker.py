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

        made = {
            name: base64.b64encode(getattr(samples, SAMPLES[name].maker)()).decode()
            for name in request["make"]
        }
        json.dump({"samples": made}, sys.stdout)
        return
    results = []
    for item in request["files"]:
        data = base64.b64decode(item["data"])
        try:
            parsed = parse_fcm(data) if item["kind"] == "fcm" else parse_apn(data, request["now"])
            results.append({"credential": dataclasses.asdict(parsed)})
        except CredentialError as exc:
            results.append({"error": str(exc)})
        except Exception as exc:  # any other parser failure is still an answer about this file
            results.append({"error": f"the file could not be read ({type(exc).__name__})"})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
