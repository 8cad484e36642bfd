"""The streaming multipart parser: the same files whatever the chunks the body arrives in."""

from __future__ import annotations

import io

import httpx
import pytest

from services.topology.api.uploads import MalformedUpload, MultipartParser, boundary_of
from shared.errors import InvalidInput

NODES = "node_id,kind,name\nS1,source,东1线\n".encode()
# Content that looks like the start of a delimiter must come through untouched.
TRICKY = b"a\r\n--not-the-boundary\r\n\r\n--\r\nb" * 50


def encoded(files):
    request = httpx.Request("POST", "http://test/", files=files, data={"note": "ignored"})
    return request.headers["content-type"], request.read()


def parse(content_type, body, chunk_size, wanted=("nodes", "devices")):
    files = {}

    def open_part(name):
        if name not in wanted:
            return None
        files[name] = io.BytesIO()
        return files[name]

    parser = MultipartParser(boundary_of(content_type), open_part)
    for start in range(0, len(body), chunk_size):
        parser.feed(body[start : start + chunk_size])
    parser.close()
    return {name: file.getvalue() for name, file in files.items()}


@pytest.mark.parametrize("chunk_size", [1, 2, 7, 64, 1 << 20])
def test_parts_come_out_whole_however_the_body_is_chunked(chunk_size):
    content_type, body = encoded(
        {
            "nodes": ("nodes.csv", NODES, "text/csv"),
            "devices": ("devices.csv", TRICKY, "text/csv"),
            "other": ("x.bin", b"dropped", "application/octet-stream"),
        }
    )

    assert parse(content_type, body, chunk_size) == {"nodes": NODES, "devices": TRICKY}


def test_an_empty_file_is_an_empty_part():
    content_type, body = encoded({"nodes": ("nodes.csv", b"", "text/csv")})

    assert parse(content_type, body, 3) == {"nodes": b""}


def test_a_body_cut_short_is_malformed():
    content_type, body = encoded({"nodes": ("nodes.csv", NODES, "text/csv")})

    with pytest.raises(MalformedUpload):
        parse(content_type, body[:-10], 5)


def test_a_body_that_is_not_multipart_is_refused_naming_the_body():
    with pytest.raises(InvalidInput) as raised:
        boundary_of("application/json")

    assert raised.value.field == "body"
