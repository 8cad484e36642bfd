"""Streaming reception of ``multipart/form-data`` file uploads.

A city's network bundle runs to hundreds of megabytes, so each file part goes straight into a
temporary file (kept in memory while small) as the request body streams in; nothing holds a
whole file in memory. The parser is incremental: a boundary may be split across any chunks.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Collection
from email.message import Message
from tempfile import SpooledTemporaryFile
from typing import IO

from fastapi import Request

from services.topology.domain import messages
from shared.errors import InvalidInput

# Part headers are a few lines; anything longer is not a form upload.
_MAX_PART_HEADER_BYTES = 16 * 1024


class MalformedUpload(ValueError):
    """The body is not the multipart document its Content-Type announces."""


class MultipartParser:
    """Feed the body in chunks; each part's content goes to the sink ``open_part`` returns for
    its form field name (None discards the part)."""

    def __init__(self, boundary: bytes, open_part: Callable[[str], IO[bytes] | None]) -> None:
        self._delimiter = b"\r\n--" + boundary
        self._open_part = open_part
        # The first delimiter has no line break before it; starting the buffer with one lets a
        # single search find every delimiter.
        self._buffer = bytearray(b"\r\n")
        self._state = "preamble"
        self._sink: IO[bytes] | None = None

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while self._step():
            pass

    def close(self) -> None:
        if self._state != "done":
            raise MalformedUpload("内容不完整，缺少结束分隔符")

    def _step(self) -> bool:
        """Advance as far as the buffer allows; False when more data is needed."""
        buffer = self._buffer
        if self._state in ("preamble", "body"):
            found = buffer.find(self._delimiter)
            if found < 0:
                # Keep a tail that could be the start of a delimiter split across chunks.
                keep = len(self._delimiter) - 1
                if len(buffer) > keep:
                    self._write(buffer[:-keep])
                    del buffer[:-keep]
                return False
            self._write(buffer[:found])
            del buffer[: found + len(self._delimiter)]
            self._state = "boundary"
            return True
        if self._state == "boundary":
            if len(buffer) < 2:
                return False
            if buffer[:2] == b"--":
                self._state = "done"
                return True
            if buffer[:2] != b"\r\n":
                raise MalformedUpload("分隔符后缺少换行")
            del buffer[:2]
            self._state = "headers"
            return True
        if self._state == "headers":
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > _MAX_PART_HEADER_BYTES:
                    raise MalformedUpload("分段头过长")
                return False
            name = _field_name(bytes(buffer[:end]))
            del buffer[: end + 4]
            self._sink = self._open_part(name)
            self._state = "body"
            return True
        buffer.clear()  # the epilogue after the closing delimiter means nothing
        return False

    def _write(self, data: bytearray) -> None:
        if self._state == "body" and self._sink is not None:
            self._sink.write(data)


def _field_name(raw_headers: bytes) -> str:
    headers = Message()
    for line in raw_headers.decode("utf-8", errors="replace").split("\r\n"):
        name, separator, value = line.partition(":")
        if separator:
            headers[name.strip()] = value.strip()
    field = headers.get_param("name", header="content-disposition")
    if not isinstance(field, str) or not field:
        raise MalformedUpload("分段缺少 Content-Disposition 的 name")
    return field


def boundary_of(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type; InvalidInput for anything else."""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise InvalidInput(messages.UPLOAD_NOT_MULTIPART, field="body")
    return boundary.encode("latin-1")


@contextlib.asynccontextmanager
async def uploaded_files(
    request: Request, fields: Collection[str], *, spool_bytes: int
) -> AsyncIterator[dict[str, IO[bytes]]]:
    """The uploaded files of the form ``fields`` present in the request, by field name; they are
    deleted when the context ends. Other fields are read past and dropped."""
    boundary = boundary_of(request.headers.get("content-type", ""))
    with contextlib.ExitStack() as stack:
        files: dict[str, IO[bytes]] = {}

        def open_part(name: str) -> IO[bytes] | None:
            if name not in fields:
                return None
            if name in files:
                raise MalformedUpload(f"字段 {name} 上传了两次")
            files[name] = stack.enter_context(SpooledTemporaryFile(max_size=spool_bytes))
            return files[name]

        parser = MultipartParser(boundary, open_part)
        try:
            async for chunk in request.stream():
                parser.feed(chunk)
            parser.close()
        except MalformedUpload as exc:
            raise InvalidInput(messages.UPLOAD_MALFORMED.format(reason=exc), field="body") from exc
        yield files
