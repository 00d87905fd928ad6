"""`python -m tests.matrix`: every client of the matrix against a server on each protocol, printed as the
table docs/client-matrix.md shows; exit status 1 when a call was not answered as sent."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from mesibo_mock.testing import MesiboMock
from tests.matrix import CLIENTS, PROTOCOLS, build, missing, run

TOKEN = "matrix-token"


def main() -> int:
    built = Path(tempfile.mkdtemp(prefix="mesibo-matrix-"))
    for kind in sorted({c.build for c in CLIENTS if c.build and missing(c) is None}):
        build(kind, built)
    results: dict[tuple[str, str], str] = {}
    failed = False
    for protocol in PROTOCOLS:
        env = {"MESIBO_MOCK_HTTP": protocol}
        with MesiboMock(subprocess=True, app_token=TOKEN, env=env) as mock:
            for client in CLIENTS:
                why = missing(client)
                if why is not None:
                    results[client.name, protocol] = f"not run ({why})"
                    continue
                problems = run(client, mock.backend_url, TOKEN, f"{client.name}-{protocol}", built)
                results[client.name, protocol] = "4 of 4" if not problems else "; ".join(problems)
                failed = failed or bool(problems)
    print("| client | h2c offer | " + " | ".join(f"`{p}`" for p in PROTOCOLS) + " |")
    print("|---|---|" + "---|" * len(PROTOCOLS))
    for client in CLIENTS:
        cells = [results[client.name, p] for p in PROTOCOLS]
        print(f"| {client.label} | {'yes' if client.offers_h2c else 'no'} | " + " | ".join(cells) + " |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
