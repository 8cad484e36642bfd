"""``python -m shared.auth token --role ROLE --sub NAME``: mint a token for the set secret."""

from __future__ import annotations

import argparse
from datetime import timedelta

from shared.auth import Role, TokenConfig, mint_token
from shared.config import ServiceSettings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.auth")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a bearer token")
    token.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    token.add_argument("--sub", required=True, help="the user or system name")
    token.add_argument("--ttl-hours", type=float, default=12.0)
    args = parser.parse_args()
    settings = ServiceSettings()
    config = TokenConfig(
        settings.jwt_secret.get_secret_value(), settings.jwt_issuer, settings.jwt_audience
    )
    print(mint_token(config, args.sub, args.role, timedelta(hours=args.ttl_hours)))  # noqa: T201


if __name__ == "__main__":
    main()
