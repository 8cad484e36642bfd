"""HMAC signatures for webhooks (carrier delivery reports, uplink replies).

The scheme follows Stripe / Standard Webhooks: the signature covers the timestamp and the raw
body, so a captured request cannot be replayed outside the tolerance window, and a body that
was re-serialised on the way is rejected rather than trusted.
Header: ``X-Signature: t=<unix seconds>,v1=<hex hmac-sha256(secret, "<t>.<body>")>``.
Several ``v1=`` values may be present while a secret is being rotated.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Signature"
DEFAULT_TOLERANCE_S = 300


class SignatureError(ValueError):
    """The request's signature is missing, malformed, stale or wrong."""


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """Return the ``X-Signature`` header value for ``body``."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def verify(
    secrets: list[str],
    body: bytes,
    header: str | None,
    *,
    now: float | None = None,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> int:
    """Check ``header`` against ``body`` with any of ``secrets``; return the signed timestamp."""
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise SignatureError("signature timestamp outside the replay window")
    payload = f"{timestamp}.".encode() + body
    for secret in secrets:
        expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, c) for c in candidates):
            return timestamp
    raise SignatureError("signature does not match")
