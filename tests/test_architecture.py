"""The map in docs/architecture.md, kept true: who may import whom (issue 13)."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@functools.cache  # each file parsed once for all the tests here
def imports_of(path: Path) -> tuple[tuple[str, list[str]], ...]:
    """(module, names) for every import in a file, relative imports made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.append((base, [alias.name for alias in node.names]))
    return tuple(found)


def files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_sync_never_imports_the_web_layer():
    offenders = [
        (str(f.relative_to(ROOT)), m)
        for f in files("sync")
        for m, _ in imports_of(f)
        if m == "server" or m.startswith(("server.", "starlette", "uvicorn"))
    ]
    assert offenders == []


def test_bench_never_imports_tests():
    offenders = [
        (str(f.relative_to(ROOT)), m) for f in files("bench") for m, _ in imports_of(f) if m == "tests" or m.startswith("tests.")
    ]
    assert offenders == []


def test_no_private_name_is_imported_across_modules():
    offenders = [
        (str(f.relative_to(ROOT)), m, n)
        for folder in ("sync", "server")
        for f in files(folder)
        for m, names in imports_of(f)
        for n in names
        if n.startswith("_") and not n.startswith("__") and m.startswith(("sync", "server"))
    ]
    assert offenders == []


def test_server_handlers_hold_no_sql():
    """A handler reads the request, calls one function of sync/, returns JSON (STYLE.md)."""
    offenders = [
        str(f.relative_to(ROOT))
        for f in files("server/api")
        if any(word in f.read_text(encoding="utf-8") for word in ("SELECT ", "INSERT ", "UPDATE ", "DELETE "))
    ]
    assert offenders == []


# The layers of sync/, highest first: a module imports only from its own layer or those below it.
# The leaves import nothing of sync/; the records (audit log, journal, outbox events) write through db.
LAYERS = ("office", "outward", "protocol", "cards", "people", "records", "db", "leaves")
LEAVES = {"errors", "times", "access", "jsontext", "recent", "places", "inputs", "ids"}
RECORDS = {"audit", "journal", "events"}
PEERS = {("cards", "people"), ("people", "cards")}  # side by side: neither needs the other today


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 2:
        return parts[1]
    return "leaves" if parts[1] in LEAVES else "records" if parts[1] in RECORDS else parts[1]


def test_every_sync_module_has_a_layer():
    unplaced = [
        m
        for m in (".".join(f.relative_to(ROOT).with_suffix("").parts) for f in files("sync"))
        if m != "sync.__init__" and layer_of(m) not in LAYERS
    ]
    assert unplaced == []


def test_sync_layers_only_import_downwards():
    upward = []
    for f in files("sync"):
        own = ".".join(f.relative_to(ROOT).with_suffix("").parts)
        if own == "sync.__init__":
            continue
        mine = layer_of(own)
        for module, names in imports_of(f):
            if module != "sync" and not module.startswith("sync."):
                continue
            for target in [f"sync.{n}" for n in names] if module == "sync" else [module]:
                theirs = layer_of(target) if target.count(".") else "leaves"
                if (mine, theirs) not in PEERS and LAYERS.index(theirs) < LAYERS.index(mine):
                    upward.append((own, target))
    assert upward == []


def test_sql_runs_only_in_the_db_package():
    """STYLE.md: all SQL lives in sync/db/ (the server's restore and CLI included)."""
    words = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", "CREATE TABLE", ".execute(")
    offenders = [
        str(f.relative_to(ROOT))
        for folder in ("sync", "server")
        for f in files(folder)
        if "sync/db/" not in str(f) and any(w in f.read_text(encoding="utf-8") for w in words)
    ]
    assert offenders == []
