"""Reading the CSV files of a ``multipart/form-data`` upload.

FastAPI's ``UploadFile`` needs the python-multipart package, which the suite does not depend
on; registry files are read whole anyway (the import checks every row before writing any), so
the body is collected up to a size limit and split here. This handles what browsers, curl and
httpx send: parts separated by the boundary, each with a ``Content-Disposition: form-data``
header naming the field and, for files, the file name.
"""

from __future__ import annotations

from email.message import Message
from email.utils import collapse_rfc2231_value

from fastapi import Request

from services.contacts.domain import messages
from services.contacts.usecases import UploadedCsv
from shared.errors import InvalidInput

_CRLF = b"\r\n"


async def read_csv_uploads(
    request: Request, *, fields: frozenset[str], max_bytes: int
) -> dict[str, UploadedCsv]:
    """The uploaded files by form field; only ``fields`` are accepted, each at most once."""
    content_type = request.headers.get("content-type", "")
    boundary = _param("content-type", content_type, "boundary")
    if not content_type.lower().startswith("multipart/form-data") or not boundary:
        raise InvalidInput(messages.UPLOAD_NOT_MULTIPART, field="body")
    too_large = InvalidInput(
        messages.UPLOAD_TOO_LARGE.format(limit_mb=max_bytes // (1024 * 1024)), field="body"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise too_large
    uploads: dict[str, UploadedCsv] = {}
    for name, filename, content in split_multipart(bytes(body), boundary.encode("latin-1")):
        if name not in fields:
            raise InvalidInput(messages.UPLOAD_UNKNOWN_PART.format(name=name), field=name)
        if name in uploads:
            raise InvalidInput(messages.UPLOAD_REPEATED_PART.format(name=name), field=name)
        uploads[name] = UploadedCsv(filename or f"{name}.csv", content)
    return uploads


def split_multipart(body: bytes, boundary: bytes) -> list[tuple[str, str | None, bytes]]:
    """``(field name, file name, content)`` of each part with a form-data disposition."""
    parts: list[tuple[str, str | None, bytes]] = []
    # Each delimiter is CRLF "--" boundary; the first one may start the body without the CRLF.
    segments = (_CRLF + body).split(_CRLF + b"--" + boundary)
    for segment in segments[1:]:
        if segment.startswith(b"--"):
            break
        line_end = segment.find(_CRLF)
        if line_end < 0:
            break
        rest = segment[line_end + 2 :]
        if rest.startswith(_CRLF):
            head, content = b"", rest[2:]
        else:
            head, separator, content = rest.partition(_CRLF + _CRLF)
            if not separator:
                continue
        disposition = _header(head, "content-disposition")
        name = _param("content-disposition", disposition, "name")
        if name is None:
            continue
        parts.append((name, _param("content-disposition", disposition, "filename"), content))
    return parts


def _header(head: bytes, wanted: str) -> str:
    for line in head.decode("utf-8", errors="replace").split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() == wanted:
            return value.strip()
    return ""


def _param(header: str, value: str, param: str) -> str | None:
    message = Message()
    message[header] = value
    found = message.get_param(param, header=header)
    if found is None or isinstance(found, str):
        return found
    return collapse_rfc2231_value(found)
