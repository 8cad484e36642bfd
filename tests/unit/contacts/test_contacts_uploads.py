"""Splitting multipart/form-data bodies as browsers, curl and httpx send them."""

from typing import Any

import httpx

from services.contacts.api.uploads import split_multipart


def encoded(files: dict[str, Any], data: dict[str, str] | None = None) -> tuple[bytes, bytes]:
    request = httpx.Request("POST", "http://contacts/v1/import", files=files, data=data)
    content_type = request.headers["content-type"]
    boundary = content_type.split("boundary=")[1].encode()
    return request.read(), boundary


def test_files_keep_their_bytes_names_and_file_names():
    customers = "account_id,name\r\nA1,华新\r\n".encode()
    contacts = b"account_id,role,name,phone\nA1,electrical,x,1\n"
    body, boundary = encoded(
        {
            "customers": ("用户.csv", customers, "text/csv"),
            "contacts": ("contacts.csv", contacts, "text/csv"),
        }
    )

    parts = split_multipart(body, boundary)

    assert parts == [
        ("customers", "用户.csv", customers),
        ("contacts", "contacts.csv", contacts),
    ]


def test_plain_fields_have_no_file_name_and_a_body_without_parts_yields_none():
    body, boundary = encoded({"contacts": ("c.csv", b"", "text/csv")}, data={"note": "x"})

    parts = split_multipart(body, boundary)

    assert ("note", None, b"x") in parts
    assert ("contacts", "c.csv", b"") in parts
    assert split_multipart(b"", boundary) == []
