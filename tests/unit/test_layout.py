"""The layout (DESIGN.md, README "Development"): every import path under mesibo_mock is the file's path
under app/, no import circle between files, and every import goes to a room on a lower floor.

Read from the code itself with `ast`, every import counted (at the top of a module, inside functions,
and under TYPE_CHECKING), so a lazy import cannot hide a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "app"
PACKAGE = ROOT / "mesibo_mock"

# Rooms from the bottom floor up: a room may import only rooms on lower floors (and itself).
FLOORS: list[set[str]] = [
    {"mesibo_mock", "clock", "errors", "store", "redaction"},
    {"values", "schemas", "credentials", "server"},
    {"services"},
    {"delivery", "events"},
    {"seed", "backend"},
    {"scheduler", "lifecycle"},
    {"mock_api"},
    {"ui"},
    {"parity"},
    {"main"},
    {"cli"},
    {"testing"},
    {"__main__", "samples"},
]
FLOOR_OF = {room: number for number, rooms in enumerate(FLOORS) for room in rooms}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(path: Path, name: str, known: dict[str, Path]) -> set[str]:
    """The modules of mesibo_mock that `path` imports (a `from x import y` counts y when y is a module)."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("mesibo_mock"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if not target.startswith("mesibo_mock"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return found - {name}


def room_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(path, name, known) for name, path in known.items()}


def test_every_import_path_is_a_file_at_the_same_path_under_app():
    known = modules()
    unresolved = {
        (name, target) for name, targets in graph().items() for target in targets if target not in known
    }
    assert not unresolved, f"imports that name no file under app/: {sorted(unresolved)}"
    for name, path in known.items():  # and the other way round: the file's path is its import path
        assert path == ROOT.joinpath(*name.split(".")).with_suffix(".py") or path.name == "__init__.py"


def test_no_import_circle_between_files():
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError("import circle: " + " -> ".join([*stack[stack.index(nxt) :], nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_every_import_goes_to_a_lower_floor():
    rooms = {room_of(name) for name in modules()}
    assert rooms == set(FLOOR_OF), f"rooms without a floor, or floors without a room: {rooms ^ set(FLOOR_OF)}"
    upward = sorted(
        f"{name} -> {target}"
        for name, targets in graph().items()
        for target in targets
        if room_of(target) != room_of(name) and FLOOR_OF[room_of(target)] >= FLOOR_OF[room_of(name)]
    )
    assert not upward, "imports of a room on the same or a higher floor:\n" + "\n".join(upward)


def test_the_engine_and_the_events_module_do_not_import_each_other():
    edges = graph()
    assert not [t for t in edges["mesibo_mock.delivery.engine"] if t.startswith("mesibo_mock.events")]
    for module in ("webhook", "outbox", "sending", "views"):
        assert not [t for t in edges[f"mesibo_mock.events.{module}"] if t.startswith("mesibo_mock.delivery")]


def test_each_mock_path_is_declared_by_the_module_routes_names_for_it():
    """/_mock modules are added on the first request for their paths (mock_api/routes.py): the map from
    a path's first segment to its module must name every route's true module, or a first request would
    find no route."""
    import importlib

    from mesibo_mock.mock_api.routes import MODULES

    served: dict[str, set[str]] = {}
    for module in set(MODULES.values()):
        for route in importlib.import_module(module).router.routes:
            segment = route.path.removeprefix("/_mock/").split("/", 1)[0]
            served.setdefault(segment, set()).add(module)
    assert {segment: {MODULES.get(segment)} for segment in served} == served


SQL_CALLS = frozenset(
    {"execute", "executemany", "executescript", "one", "all", "run", "insert", "update", "append"}
)
SQL_WORDS = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", "WITH RECURSIVE", "CREATE ", "PRAGMA ")


def is_sql(text: str) -> bool:
    words = text.lstrip().upper()
    return words.startswith(SQL_WORDS) and any(
        word in words for word in (" FROM ", " INTO ", " SET ", " TABLE ")
    )


def sql_outside_services(path: Path) -> list[str]:
    """Where a module outside services/ and store/ talks to the database: a call of a query method on
    the store or a connection (`rt.store.one(`, `conn.execute(`), or a string that is SQL."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
        ):
            receiver = ast.unparse(node.func.value)
            if receiver.endswith(("store", "conn", "cursor", "store.conn")):
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}(")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and is_sql(node.value):
            found.append(f"{path.name}:{node.lineno} {node.value[:40]!r}")
    return found


def test_only_services_and_store_hold_sql():
    """DESIGN.md's "One place per rule": routers, ops, the dashboard, events and delivery call services;
    only services/ and store/ issue SQL, so /_mock, the dashboard and the timeline read one query per kind."""
    offending = []
    for name, path in modules().items():
        if room_of(name) in ("services", "store"):
            continue
        offending += sql_outside_services(path)
    assert not offending, "SQL outside services/ and store/:\n" + "\n".join(offending)
