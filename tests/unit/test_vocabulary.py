"""SPEC 9.1: the four clients are one API in four spellings. docs/clients.md holds the vocabulary, one
row per helper; this test fails when a helper the table names is missing from a language, when a
language has a public helper the table does not name (unless EXTRAS says why it is meant to differ),
or when a name is not the Python name in camelCase.

Python is read from its classes, Node from index.d.ts (and its classes at run time), PHP by reflection,
Java from its sources."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "clients.md"
LANGUAGES = ("python", "node", "php", "java")
SCOPES = ("mock", "app", "app only", "receiver")
REQUIRED = os.environ.get("MESIBO_MOCK_REQUIRE_MATRIX") == "1"  # CI: every runtime must be there

# What is meant to differ, by language and scope, each with its reason.
EXTRAS: dict[tuple[str, str], dict[str, str]] = {
    ("python", "mock"): {
        "copy_store": "a copy of the store for the dashboard after a pytest run (the plugin's keep_db)",
        "logs": "the output of a server it started",
        "db_path": "where the server it started keeps its store (copy_store's source)",
    },
    ("node", "mock"): {"logs": "the output of a server it started"},
    ("php", "mock"): {
        "logs": "the output of a server it started",
        "shared": "the trait's server, one per PHPUnit run",
        "findServer": "where the server is looked for (its own tests)",
    },
    ("java", "mock"): {
        "logs": "the output of a server it started",
        "close": "AutoCloseable: try-with-resources stops the server",
        "findServer": "where the server is looked for (its own tests)",
    },
    ("node", "app only"): {"strict": "strict mode on or off, as the hook turns it off for a failed test"},
    ("php", "app only"): {"isStrict": "strict mode, read", "notStrict": "strict mode off, for a failed test"},
    ("java", "app only"): {
        "isStrict": "strict mode, read",
        "notStrict": "strict mode off, for a failed test",
    },
    ("node", "receiver"): {"start": "a receiver is started by a static call (Python: its constructor)"},
    ("php", "receiver"): {"start": "a receiver is started by a static call (Python: its constructor)"},
    ("java", "receiver"): {"start": "a receiver is started by a static call (Python: its constructor)"},
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def vocabulary() -> list[dict[str, str]]:
    """The table's rows: scope and the name in each language."""
    text = DOC.read_text()
    rows = []
    for line in text[text.index("<!-- vocabulary") :].splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] in SCOPES:
            rows.append({"scope": cells[0], **dict(zip(LANGUAGES, cells[1:5], strict=True))})
        elif rows and not line.startswith("|"):
            break
    return rows


ROWS = vocabulary()


def expected(language: str, scope: str) -> set[str]:
    """The names a class of `scope` must have in `language`: its rows, and the app rows for the MesiboMock
    and an app alike."""
    scopes = {"mock": ("mock", "app"), "app only": ("app", "app only"), "receiver": ("receiver",)}[scope]
    return {row[language] for row in ROWS if row["scope"] in scopes}


# --- each language's public members, per scope ------------------------------------------------------
def python_members() -> dict[str, set[str]]:
    from mesibo_mock.testing import MesiboApp, MesiboMock, WebhookReceiver

    def public(obj) -> set[str]:
        return {n for n in dir(obj) if not n.startswith("_")}

    app = MesiboApp(None, "http://127.0.0.1:9", {"token": "t", "name": "n"})
    with WebhookReceiver() as receiver:
        hook = public(receiver)
    app_names = public(app) - {"client", "strict", "closed"}  # the instance's own state
    return {"mock": public(MesiboMock), "app only": app_names, "receiver": hook}


def node_members() -> dict[str, set[str]]:
    """The declared API (index.d.ts), checked against the classes themselves at run time."""
    text = (ROOT / "clients" / "node" / "index.d.ts").read_text()

    def declared(name: str) -> set[str]:
        body = re.search(rf"declare class {name}\b[^{{]*\{{(.*?)\n\}}", text, re.S).group(1)
        return set(
            re.findall(r"^  (?:static )?(?:readonly )?(\w+)\??[(:]", body, re.M)
        )  # members, not parameters

    helpers = declared("Helpers")
    members = {
        "mock": helpers | declared("MesiboMock"),
        "app only": helpers | declared("MesiboApp"),
        "receiver": declared("WebhookReceiver"),
    }
    node = shutil.which("node")
    if node is None:
        if REQUIRED:
            pytest.fail("node is not installed")
        return members
    script = """
      const m = require(process.argv[1]);
      const names = (obj) => { const found = new Set(Object.keys(obj));
        for (let p = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p))
          for (const n of Object.getOwnPropertyNames(p)) found.add(n);
        return found; };
      const statics = (cls) => Object.getOwnPropertyNames(cls);
      const { Client } = require(process.argv[1].replace("index.cjs", "helpers.cjs"));
      const client = new Client("http://127.0.0.1:9");
      const out = {
        mock: [...names(new m.MesiboMock(client, "t", null)), ...statics(m.MesiboMock)],
        app: [...names(new m.MesiboApp(client, { token: "t", name: "n" }, false))],
        receiver: [...names(new m.WebhookReceiver(null, "u")), ...statics(m.WebhookReceiver)],
      };
      console.log(JSON.stringify(out));
    """
    index = str(ROOT / "clients" / "node" / "src" / "index.cjs")
    running = json.loads(
        subprocess.run([node, "-e", script, index], capture_output=True, text=True, check=True).stdout
    )
    for scope, key in (("mock", "mock"), ("app only", "app"), ("receiver", "receiver")):
        missing = members[scope] - set(running[key])
        assert not missing, f"index.d.ts declares what the Node {scope} class lacks: {sorted(missing)}"
    return members


def php_members() -> dict[str, set[str]]:
    php = shutil.which("php")
    if php is None:
        if REQUIRED:
            pytest.fail("php is not installed")
        pytest.skip("php is not installed")
    script = """
      require $argv[1];
      $out = [];
      foreach (['mock' => 'MesiboMock\\\\MesiboMock', 'app only' => 'MesiboMock\\\\App',
                'receiver' => 'MesiboMock\\\\WebhookReceiver'] as $scope => $class) {
          $names = [];
          foreach ((new ReflectionClass($class))->getMethods(ReflectionMethod::IS_PUBLIC) as $method) {
              if (strpos($method->getName(), '__') !== 0) { $names[] = $method->getName(); }
          }
          $out[$scope] = $names;
      }
      echo json_encode($out);
    """
    autoload = str(ROOT / "clients" / "php" / "autoload.php")
    done = subprocess.run([php, "-r", script, autoload], capture_output=True, text=True, check=True)
    return {scope: set(names) for scope, names in json.loads(done.stdout).items()}


def java_members() -> dict[str, set[str]]:
    source = ROOT / "clients" / "java" / "src" / "main" / "java" / "io" / "github" / "mesibomock"

    def public(name: str) -> set[str]:
        text = (source / f"{name}.java").read_text()
        return set(re.findall(r"^    public (?:static )?(?:final )?[\w<>\[\], .]+? (\w+)\(", text, re.M)) - {
            name,
            "toString",
        }

    helpers = public("Helpers")
    return {
        "mock": helpers | public("MesiboMock"),
        "app only": helpers | public("MesiboApp"),
        "receiver": public("WebhookReceiver"),
    }


READERS = {"python": python_members, "node": node_members, "php": php_members, "java": java_members}


def test_the_table_has_every_scope_and_names_each_helper_once():
    assert len(ROWS) > 60, "docs/clients.md's vocabulary table was not found"
    assert {row["scope"] for row in ROWS} == set(SCOPES)
    for scope in SCOPES:
        names = [row["python"] for row in ROWS if row["scope"] == scope]
        assert len(names) == len(set(names)), f"a {scope} helper is named twice"


@pytest.mark.parametrize("language", ("node", "php", "java"))
def test_every_name_is_the_python_name_in_camel_case(language):
    wrong = [(row["python"], row[language]) for row in ROWS if row[language] != camel(row["python"])]
    assert not wrong, f"{language} spells these otherwise: {wrong}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_every_helper_of_the_table_and_no_other(language):
    members = READERS[language]()
    for scope in ("mock", "app only", "receiver"):
        want = expected(language, scope)
        missing = sorted(want - members[scope])
        assert not missing, f"{language}'s {scope} class lacks {missing} (docs/clients.md names them)"
        allowed = set(EXTRAS.get((language, scope), {}))
        unlisted = sorted(members[scope] - want - allowed)
        assert not unlisted, (
            f"{language}'s {scope} class has {unlisted}, which docs/clients.md's table does not name: add it to"
            " the table in every language, or to EXTRAS with the reason it is meant to differ"
        )
        stale = sorted(allowed - members[scope])
        assert not stale, f"EXTRAS names {stale} for {language}'s {scope} class, which has them no more"
