"""One canonical JSON text per value, and its SHA-256: key order and whitespace do not change
the hash, content does. Process specs and parameter tables are hashed this way (a stored
sha256 is compared with one computed now, so the form must never change)."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
