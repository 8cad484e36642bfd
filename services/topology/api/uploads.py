"""Uploads of the network bundle: FastAPI ``UploadFile`` fields with the service's error contract.

A city's bundle runs to hundreds of megabytes. Starlette streams each file part into a
temporary file (kept in memory up to 1 MB) as the body arrives, and the import reads those
files line by line with the csv module, so no whole file is ever held in memory. What can go
wrong with the upload itself is answered like any other bad input: 422 naming ``body`` (not a
form, a form that does not parse, a file sent twice) or the missing file's field.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from email.message import Message
from typing import IO, Any

from fastapi import Request, Response, UploadFile
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from services.topology.domain import messages
from shared.errors import InvalidInput

MULTIPART = "multipart/form-data"


def is_multipart(request: Request) -> bool:
    header = Message()
    header["content-type"] = request.headers.get("content-type", "")
    return header.get_content_type() == MULTIPART


class UploadRoute(APIRoute):
    """A route whose form body Starlette parses: a body that does not parse is answered 422
    naming ``body``, as every other bad input is, rather than Starlette's bare 400."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:  # Starlette's, raised by its form parser
                if exc.status_code != 400 or not is_multipart(request):
                    raise
                raise InvalidInput(
                    messages.UPLOAD_MALFORMED.format(reason=exc.detail), field="body"
                ) from exc

        return handle


async def uploaded_files(
    request: Request, uploads: Mapping[str, UploadFile | None], names: Mapping[str, str]
) -> dict[str, IO[bytes]]:
    """The spooled file of each form field in ``uploads``, keyed by its bundle file name
    (``names``: field → file name). Each field must be sent, and sent once."""
    if not is_multipart(request):
        raise InvalidInput(messages.UPLOAD_NOT_MULTIPART, field="body")
    form = await request.form()  # parsed already for the fields; this is the same form
    files: dict[str, IO[bytes]] = {}
    for field, file in names.items():
        upload = uploads.get(field)
        if upload is None:
            raise InvalidInput(
                messages.UPLOAD_MISSING_FILE.format(field=field, file=file), field=field, file=file
            )
        if len(form.getlist(field)) > 1:
            raise InvalidInput(
                messages.UPLOAD_MALFORMED.format(reason=messages.UPLOAD_TWICE.format(field=field)),
                field="body",
            )
        files[file] = upload.file
    return files
