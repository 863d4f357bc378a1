"""`GET /schema`: the card and activity rules as JSON Schema plus the choice lists, so a browser
validates offline with the same rules as the server."""
from __future__ import annotations

from typing import Any

from .validate import activity_json_schema, card_json_schema

SEGMENTS = ["A", "B", "C"]


def schema_document(default_region: str) -> dict[str, Any]:
    return {
        "card": card_json_schema(),
        "activity": activity_json_schema(),
        "options": {
            "segments": SEGMENTS,
            "tags": [],
            "industries": [],
            "regions": [],
            "default_region": default_region,
            "custom_fields": [],
        },
    }
