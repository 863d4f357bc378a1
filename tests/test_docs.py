"""Docs move with the code (issue 13): every command has help with an example, every route is in
the OpenAPI document, and the architecture map names files that exist."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from server.app import api_table
from server.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:  # argparse keeps its subparsers here; no public accessor exists
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = commands(sub, f"{prefix}{name} ")
                found += nested or [(f"{prefix}{name}", sub)]
    return found


def test_every_command_has_help_with_an_example():
    found = commands(build_parser())
    assert len(found) >= 13
    missing = [name for name, sub in found if "example: fieldcards" not in (sub.epilog or "")]
    assert missing == []


def test_the_architecture_map_names_files_that_exist():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:sync|server|pwa|tests|bench)/[\w./-]+\.(?:py|js|json|md))`", text))
    assert len(named) > 20
    assert sorted(n for n in named if not (ROOT / n).exists()) == []


def test_every_route_is_in_the_openapi_document():
    from server.openapi import document

    paths = document(api_table())["paths"]
    assert all(path in paths for path, *_ in api_table())
