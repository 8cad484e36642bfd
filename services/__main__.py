"""``python -m services run|demo``: the embedded suite (one process, SQLite, in-process bus)."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from services.demo import play_demo
from services.embedded import run_embedded


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve every service and the carrier simulator")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--var-dir", type=Path, default=Path("var/embedded"))
    demo = commands.add_parser("demo", help="play one outage end to end and print its coverage")
    demo.add_argument("--var-dir", type=Path, default=Path("var/demo"))
    args = parser.parse_args()
    if args.command == "run":
        asyncio.run(run_embedded(args.host, args.var_dir))
    else:
        # The story is the output; service chatter only when something goes wrong.
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        asyncio.run(play_demo(args.var_dir))


if __name__ == "__main__":
    main()
