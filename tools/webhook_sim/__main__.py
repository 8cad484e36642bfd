"""``python -m tools.webhook_sim [--host 127.0.0.1] [--port 8007]``: serve the simulator.

Behaviour comes from ``WEBHOOK_SIM_*`` environment variables (see :mod:`.settings`).
"""

from __future__ import annotations

import argparse

import uvicorn

from tools.webhook_sim.app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tools.webhook_sim",
        description="Serve the WeChat Work robot and app push simulator (WEBHOOK_SIM_* variables).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8007)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
