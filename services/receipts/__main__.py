"""``python -m services.receipts serve [--host H] [--port P]``: run the receipts service."""

from __future__ import annotations

import argparse

import uvicorn

from services.receipts.app import create_app
from services.receipts.config import ReceiptsSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m services.receipts",
        description="The receipts service; settings come from RECEIPTS_* variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the HTTP API and the event consumers")
    serve.add_argument("--host", help="default: RECEIPTS_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: RECEIPTS_PORT or 8004")
    serve.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    settings = ReceiptsSettings()
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=args.log_level,
    )


if __name__ == "__main__":
    main()
