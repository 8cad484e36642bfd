"""``python -m services.reconciliation serve [--host H] [--port P]``: run the service."""

from __future__ import annotations

import argparse

import uvicorn

from services.reconciliation.app import create_app
from services.reconciliation.config import ReconciliationSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m services.reconciliation",
        description="The reconciliation service; settings come from RECONCILIATION_* variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the HTTP API, the consumers and the worker")
    serve.add_argument("--host", help="default: RECONCILIATION_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: RECONCILIATION_PORT or 8006")
    serve.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    settings = ReconciliationSettings()
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=args.log_level,
    )


if __name__ == "__main__":
    main()
