"""The review page: plain HTML and JavaScript served as files, no build step.

The page itself needs no token; it asks the user to paste one and calls the API with it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
# The page changes with the service; a browser must never run yesterday's script on it.
_NO_CACHE = {"Cache-Control": "no-cache"}

pages = APIRouter(include_in_schema=False)


@pages.get("/review")
async def review_page() -> FileResponse:
    return FileResponse(WEB_DIR / "review.html", media_type="text/html", headers=_NO_CACHE)


@pages.get("/review/review.js")
async def review_script() -> FileResponse:
    return FileResponse(WEB_DIR / "review.js", media_type="text/javascript", headers=_NO_CACHE)


@pages.get("/review/review.css")
async def review_style() -> FileResponse:
    return FileResponse(WEB_DIR / "review.css", media_type="text/css", headers=_NO_CACHE)
