"""`GET /schema`: the card and activity rules as JSON Schema plus the choice lists, so a browser
validates offline with the same rules as the server."""

from __future__ import annotations

from typing import Any

from sync.cards.validate import activity_json_schema, card_json_schema

SEGMENTS = ["A", "B", "C"]


def schema_document(default_region: str, card_template: dict[str, Any] | None = None) -> dict[str, Any]:
    """`card_template` is the admins' template (sync/cards/template.py): custom fields and suggestion lists."""
    card_template = card_template or {}
    return {
        "card": card_json_schema(),
        "activity": activity_json_schema(),
        "options": {
            "segments": SEGMENTS,
            "tags": card_template.get("tags", []),
            "industries": card_template.get("industries", []),
            "regions": card_template.get("regions", []),
            "default_region": default_region,
            "custom_fields": [f for f in card_template.get("custom_fields", []) if not f.get("hidden")],
        },
    }
