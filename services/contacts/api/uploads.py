"""Receiving the CSV files of a ``multipart/form-data`` upload as ``UploadFile``s.

Starlette parses the form (python-multipart) and spools each file to a temporary file, kept in
memory while small; the import then streams it through the csv module, never holding a whole
file in memory. The body is counted as it arrives, so an upload over the size limit is cut off
at the limit, whether or not it declared its length.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from email.message import Message

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.types import Message as AsgiMessage
from starlette.types import Receive

from services.contacts.domain import messages
from services.contacts.usecases.imports import UploadedCsv
from shared.errors import InvalidInput

# Form fields that are not files (a stray "note") are refused anyway; the cap only keeps a
# hostile form from making the parser allocate without end.
_MAX_PARTS = 16


@asynccontextmanager
async def csv_uploads(
    request: Request, *, fields: Collection[str], max_bytes: int
) -> AsyncIterator[dict[str, UploadedCsv]]:
    """The uploaded files by form field; only ``fields`` are accepted, each once, as files.

    The temporary files are removed when the context ends.
    """
    if _content_type(request) != "multipart/form-data":
        raise InvalidInput(messages.UPLOAD_NOT_MULTIPART, field="body")
    too_large = InvalidInput(
        messages.UPLOAD_TOO_LARGE.format(limit_mb=max_bytes // (1024 * 1024)), field="body"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    limited = Request(request.scope, _counting(request.receive, max_bytes, too_large))
    try:
        form = await limited.form(max_files=_MAX_PARTS, max_fields=_MAX_PARTS)
    except HTTPException as exc:
        # Starlette's answer to a malformed body; ours names the field like every other 422.
        raise InvalidInput(
            messages.UPLOAD_MALFORMED.format(reason=exc.detail), field="body"
        ) from exc
    try:
        uploads: dict[str, UploadedCsv] = {}
        for name, value in form.multi_items():
            if name not in fields:
                raise InvalidInput(messages.UPLOAD_UNKNOWN_PART.format(name=name), field=name)
            if name in uploads:
                raise InvalidInput(messages.UPLOAD_REPEATED_PART.format(name=name), field=name)
            if not isinstance(value, UploadFile):
                raise InvalidInput(messages.UPLOAD_NOT_A_FILE.format(name=name), field=name)
            uploads[name] = UploadedCsv(value.filename or f"{name}.csv", value.file)
        yield uploads
    finally:
        await form.close()


def _content_type(request: Request) -> str:
    header = Message()
    header["content-type"] = request.headers.get("content-type", "")
    return header.get_content_type()


def _counting(receive: Receive, max_bytes: int, too_large: InvalidInput) -> Receive:
    """``receive`` that refuses the body once it has grown past ``max_bytes``."""
    seen = 0

    async def counted() -> AsgiMessage:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > max_bytes:
                raise too_large
        return message

    return counted
