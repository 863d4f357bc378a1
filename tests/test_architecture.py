"""The map in docs/architecture.md, kept true: who may import whom (issue 13)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
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
    return found


def files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_sync_never_imports_the_web_layer():
    offenders = [(str(f.relative_to(ROOT)), m) for f in files("sync") for m, _ in imports_of(f)
                 if m == "server" or m.startswith(("server.", "starlette", "uvicorn"))]
    assert offenders == []


def test_bench_never_imports_tests():
    offenders = [(str(f.relative_to(ROOT)), m) for f in files("bench") for m, _ in imports_of(f)
                 if m == "tests" or m.startswith("tests.")]
    assert offenders == []


def test_no_private_name_is_imported_across_modules():
    offenders = [(str(f.relative_to(ROOT)), m, n) for folder in ("sync", "server") for f in files(folder)
                 for m, names in imports_of(f) for n in names
                 if n.startswith("_") and not n.startswith("__") and m.startswith(("sync", "server"))]
    assert offenders == []


def test_server_handlers_hold_no_sql():
    """A handler reads the request, calls one function of sync/, returns JSON (STYLE.md)."""
    offenders = [str(f.relative_to(ROOT)) for f in files("server/api")
                 if any(word in f.read_text(encoding="utf-8") for word in ("SELECT ", "INSERT ", "UPDATE ", "DELETE "))]
    assert offenders == []
