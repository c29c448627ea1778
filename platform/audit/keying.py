"""The key of the audit chain. It lives outside the database (FORMFLOW_AUDIT_KEY), so someone who
can write the audit tables still cannot recompute the hashes after editing a row."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app

_WARNED = "formflow.audit_key_warned"


def audit_key() -> bytes:
    """FORMFLOW_AUDIT_KEY; without it a key derived from the secret key, with a warning once.

    The derived key is fine for development and tests. In production set FORMFLOW_AUDIT_KEY on
    every node and keep it: entries written under another key (or another secret key, while it is
    unset) no longer verify.
    """
    configured = current_app.config.get("AUDIT_KEY")
    if configured:
        return configured.encode() if isinstance(configured, str) else configured
    if not current_app.extensions.get(_WARNED):
        current_app.extensions[_WARNED] = True
        current_app.logger.warning(
            "FORMFLOW_AUDIT_KEY is not set: the audit chain is keyed by a key derived from the secret key"
        )
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"formflow audit chain key", hashlib.sha256).digest()


def mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def legacy_seal(key: bytes, last_seq: int, last_hash: str) -> str:
    """Vouches for the entries written unkeyed (seq 1 … last_seq): the hash of the last one covers
    all before it, and without the key nobody can seal a rewritten or longer unkeyed prefix."""
    return mac(key, f"formflow audit legacy seal:{last_seq}:{last_hash}")
