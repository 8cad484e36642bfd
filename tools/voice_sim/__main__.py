"""``python -m tools.voice_sim [--host 127.0.0.1] [--port 8008]``: serve the voice simulator.

Behaviour comes from ``VOICE_SIM_*`` environment variables (see :mod:`.settings`).
"""

from __future__ import annotations

import argparse

import uvicorn

from tools.voice_sim.app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tools.voice_sim",
        description="Serve the voice call simulator; settings come from VOICE_SIM_* variables.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8008)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
