"""``python -m services.dispatch serve [--host H] [--port P]``: run the dispatch service.

``python -m services.dispatch examples [--out docs/examples]``: write example printouts.

Settings come from ``DISPATCH_*`` variables (and the suite-wide ``DATABASE_URL``,
``KAFKA_BOOTSTRAP``, ``JWT_SECRET``…); see :class:`services.dispatch.config.DispatchSettings`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from services.dispatch.app import create_app
from services.dispatch.config import DispatchSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.dispatch")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the HTTP API, consumers and the sender")
    serve.add_argument("--host", help="interface to bind (default: DISPATCH_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: DISPATCH_PORT or 8003)")
    serve.add_argument("--log-level", default="info")
    examples = commands.add_parser(
        "examples", help="write example door slip, posted notice and newspaper digest PDFs"
    )
    examples.add_argument("--out", type=Path, default=Path("docs/examples"))
    args = parser.parse_args(argv)
    settings = DispatchSettings()
    if args.command == "examples":
        from services.dispatch.examples import write_examples

        for path in write_examples(args.out, settings):
            print(path)  # noqa: T201
        return
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=args.log_level,
    )


if __name__ == "__main__":
    main()
