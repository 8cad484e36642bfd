"""Failures the services raise on purpose, named for what went wrong rather than for HTTP.

The web layer maps each kind to a status in one table (:mod:`shared.web`). A failure names the
field, file or row at fault so that the caller can fix its input without guessing.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of expected failures. ``code`` is stable and machine-readable."""

    code = "error"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        file: str | None = None,
        row: int | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.file = file
        self.row = row
        self.errors = errors or []

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "detail": self.detail}
        for key in ("field", "file", "row"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.errors:
            out["errors"] = self.errors
        return out


class InvalidInput(AppError):
    code = "invalid_input"


class NotFound(AppError):
    code = "not_found"


class Conflict(AppError):
    code = "conflict"


class PermissionDenied(AppError):
    code = "forbidden"


class Unauthenticated(AppError):
    code = "unauthenticated"
