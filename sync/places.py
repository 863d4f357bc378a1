"""Distances between WGS-84 positions (card and activity `location`, contract 7): the haversine
great-circle distance, the same formula the phone uses in pwa/js/app/geo.js."""

from __future__ import annotations

import math
from typing import Any

EARTH_RADIUS_M = 6_371_008.8
NEAR_M = 500  # a visit logged this close to the customer's location counts as "at the customer"


def has_place(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("lat"), (int, float)) and isinstance(value.get("lng"), (int, float))


def distance_m(a: dict[str, float], b: dict[str, float]) -> float:
    """Metres along the earth's surface between two `{"lat", "lng"}`."""
    d_lat = math.radians(b["lat"] - a["lat"])
    d_lng = math.radians(b["lng"] - a["lng"])
    s = math.sin(d_lat / 2) ** 2 + math.cos(math.radians(a["lat"])) * math.cos(math.radians(b["lat"])) * math.sin(d_lng / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(s)))
