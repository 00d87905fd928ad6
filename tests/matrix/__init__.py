"""The client matrix (SPEC section 11): real HTTP clients at their defaults, each making the same four
calls (JSON, a form, a query string, a multipart pushupload with a file) against the emulator on each of
its protocols, and each call checked as answered as sent.

Each client is a small program in `clients/` that prints one line per call: `NAME STATUS BODY`; the
checks are here, once. `python -m tests.matrix` prints the matrix; `test_client_matrix.py` runs it in the
suite (a client whose runtime is missing skips, unless MESIBO_MOCK_REQUIRE_MATRIX=1, as in CI).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIENTS_DIR = HERE / "clients"
FCM_FILE = HERE.parent.parent / "fixtures" / "creds" / "fcm-service-account.json"
PROTOCOLS = ("auto", "httptools", "h11")
CALLS = ("json", "form", "query", "multipart")
JAVA_JARS = ("/usr/share/java/okhttp.jar", "/usr/share/java/okio.jar")


@dataclass(frozen=True)
class Client:
    name: str
    label: str  # what the docs' matrix calls it
    needs: tuple[str, ...]  # commands on PATH
    command: tuple[str, ...]  # {build} is the built programs' folder, {here} the clients' folder
    files: tuple[str, ...] = ()  # files it needs besides (jars, an npm package)
    build: str | None = None  # "java" or "go": compiled once per run
    offers_h2c: bool = False
    python_module: str | None = None  # a PyPI package the client imports
    notes: str = field(default="")


CLIENTS = (
    Client(
        "java-httpclient",
        "Java `HttpClient` (JDK 17, `newHttpClient()`)",
        ("java", "javac"),
        ("java", "-cp", "{build}", "MatrixHttpClient"),
        build="java",
        offers_h2c=True,
    ),
    Client(
        "okhttp",
        "OkHttp 3.13 (Debian's `libokhttp-java`)",
        ("java", "javac"),
        ("java", "-cp", "{build}:" + ":".join(JAVA_JARS), "MatrixOkHttp"),
        files=JAVA_JARS,
        build="java",
    ),
    Client("curl", "`curl` (HTTP/1.1)", ("curl", "bash"), ("bash", "{here}/curl.sh")),
    Client(
        "curl-http2",
        "`curl --http2`",
        ("curl", "bash"),
        ("bash", "{here}/curl.sh", "--http2"),
        offers_h2c=True,
    ),
    Client("php-curl", "PHP's curl extension", ("php",), ("php", "{here}/php_curl.php")),
    Client(
        "guzzle",
        "Guzzle (Debian's `php-guzzlehttp-guzzle`)",
        ("php",),
        ("php", "{here}/guzzle.php"),
        files=("/usr/share/php/GuzzleHttp/autoload.php",),
    ),
    Client("node-fetch", "Node's `fetch`", ("node",), ("node", "{here}/node_fetch.mjs")),
    Client(
        "axios",
        "axios (npm)",
        ("node",),
        ("node", "{here}/node_axios.mjs"),
        files=(str(CLIENTS_DIR / "node_modules" / "axios" / "package.json"),),
    ),
    Client("urllib", "Python `urllib`", (), (sys.executable, "{here}/py_urllib.py")),
    Client(
        "requests",
        "Python `requests`",
        (),
        (sys.executable, "{here}/py_requests.py"),
        python_module="requests",
    ),
    Client("httpx", "Python `httpx`", (), (sys.executable, "{here}/py_httpx.py"), python_module="httpx"),
    Client(
        "aiohttp", "Python `aiohttp`", (), (sys.executable, "{here}/py_aiohttp.py"), python_module="aiohttp"
    ),
    Client("go", "Go `net/http` (Debian's `golang-go`)", ("go",), ("{build}/matrix-go",), build="go"),
    Client("ruby", "Ruby `Net::HTTP`", ("ruby",), ("ruby", "{here}/ruby_nethttp.rb")),
)


def missing(client: Client) -> str | None:
    """Why the client cannot run here (its runtime, a jar, a package), or None."""
    for command in client.needs:
        if shutil.which(command) is None:
            return f"no {command} on PATH"
    for path in client.files:
        if not os.path.exists(path):
            return f"no {path}"
    if client.python_module is not None:
        import importlib.util

        if importlib.util.find_spec(client.python_module) is None:
            return f"no Python package {client.python_module}"
    return None


def build(kind: str, folder: Path) -> None:
    """Compile the Java clients (against Debian's OkHttp) or the Go one, once."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "java":
        sources = [str(CLIENTS_DIR / "MatrixHttpClient.java")]
        if all(os.path.exists(jar) for jar in JAVA_JARS):
            sources.append(str(CLIENTS_DIR / "MatrixOkHttp.java"))
        command = ["javac", "-d", str(folder), "-cp", ":".join(JAVA_JARS), *sources]
    else:
        command = ["go", "build", "-o", str(folder / "matrix-go"), str(CLIENTS_DIR / "go_nethttp.go")]
    env = {**os.environ, "GO111MODULE": "off"}  # one file, the standard library only: no module
    if "HOME" not in env:
        env.setdefault("GOCACHE", str(folder / "gocache"))
    subprocess.run(command, check=True, capture_output=True, env=env, timeout=300)


def run(client: Client, backend_url: str, token: str, address: str, built: Path) -> list[str]:
    """The client's four calls against `backend_url`; -> the problems found (empty: each answered as
    sent)."""
    command = [part.format(build=built, here=CLIENTS_DIR) for part in client.command]
    env = {
        **os.environ,
        "MATRIX_BACKEND": backend_url,
        "MATRIX_TOKEN": token,
        "MATRIX_ADDRESS": address,
        "MATRIX_FILE": str(FCM_FILE),
    }
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    if done.returncode != 0:
        return [f"exit {done.returncode}: {done.stderr.strip()[-800:]}"]
    return check(done.stdout, address)


def check(output: str, address: str) -> list[str]:
    """Each of the four calls answered as sent: the user the JSON call added, the name the form gave it,
    that name read back by the query string, the file the multipart call uploaded."""
    answers: dict[str, tuple[int, dict]] = {}
    for line in output.splitlines():
        name, _, rest = line.partition(" ")
        status, _, body = rest.partition(" ")
        if name in CALLS:
            try:
                answers[name] = (int(status), json.loads(body))
            except ValueError:
                answers[name] = (0, {"unreadable": body[:200]})
    expected = {
        "json": lambda a: a.get("user", {}).get("address") == address,
        "form": lambda a: a.get("user", {}).get("name") == "form",
        "query": lambda a: [u.get("name") for u in a.get("users", [])] == ["form"],
        "multipart": lambda a: a.get("push", {}).get("project_id") == "mesibo-mock-demo",
    }
    problems = []
    for call in CALLS:
        if call not in answers:
            problems.append(f"{call}: no answer printed")
            continue
        status, answer = answers[call]
        if status != 200 or answer.get("result") is not True or not expected[call](answer):
            problems.append(f"{call}: {status} {json.dumps(answer)[:300]}")
    return problems
