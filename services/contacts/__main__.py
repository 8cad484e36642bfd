"""``python -m services.contacts serve|import``: run the service, or import a CSV bundle.

``serve [--host H] [--port P]`` runs the HTTP API and the consumers.
``import DIR [--invalid-phones reject|flag]`` reads ``customers.csv`` and ``contacts.csv``
from DIR (either may be absent, not both) into the configured database, exactly as
``POST /v1/import`` does, and prints the report as JSON; a refused import prints its problems
and exits with status 1.

Settings come from ``CONTACTS_*`` variables (and the suite-wide ``DATABASE_URL``,
``KAFKA_BOOTSTRAP``, ``JWT_SECRET``…); see :class:`services.contacts.config.ContactsSettings`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from contextlib import ExitStack
from pathlib import Path

import uvicorn

from services.contacts.adapters.db import metadata
from services.contacts.api.schemas import ImportRead
from services.contacts.app import create_app
from services.contacts.config import ContactsSettings
from services.contacts.domain.imports import InvalidPhonePolicy
from services.contacts.usecases import Rules
from services.contacts.usecases.imports import (
    ImportRejected,
    ImportReport,
    UploadedCsv,
    import_registry,
)
from shared.db import Database
from shared.outbox import messaging_metadata
from shared.uow import UnitOfWork

BUNDLE_FILES = {"customers": "customers.csv", "contacts": "contacts.csv"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.contacts")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the HTTP API and the event consumers")
    serve.add_argument("--host", help="interface to bind (default: CONTACTS_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: CONTACTS_PORT or 8002)")
    serve.add_argument("--log-level", default="info")
    load = commands.add_parser("import", help="import customers.csv and contacts.csv from DIR")
    load.add_argument("directory", type=Path, metavar="DIR")
    load.add_argument(
        "--invalid-phones",
        choices=[policy.value for policy in InvalidPhonePolicy],
        default=InvalidPhonePolicy.REJECT.value,
        help="reject: refuse the import on any invalid number; flag: store it as invalid",
    )
    args = parser.parse_args(argv)
    settings = ContactsSettings()
    if args.command == "serve":
        uvicorn.run(
            create_app(settings),
            host=args.host or settings.host,
            port=args.port or settings.port,
            log_level=args.log_level,
        )
        return 0
    with ExitStack() as files:
        uploads = {
            field: UploadedCsv(name, files.enter_context((args.directory / name).open("rb")))
            for field, name in BUNDLE_FILES.items()
            if (args.directory / name).is_file()
        }
        if not uploads:
            parser.error(f"{args.directory} holds neither customers.csv nor contacts.csv")
        try:
            report = asyncio.run(
                _import(settings, uploads, InvalidPhonePolicy(args.invalid_phones))
            )
        except ImportRejected as rejected:
            sys.stderr.write(json.dumps(rejected.body(), ensure_ascii=False, indent=2) + "\n")
            return 1
    sys.stdout.write(ImportRead.of(report).model_dump_json(indent=2) + "\n")
    return 0


async def _import(
    settings: ContactsSettings,
    uploads: dict[str, UploadedCsv],
    policy: InvalidPhonePolicy,
) -> ImportReport:
    # No runtime: an import emits no events, so neither the bus nor the relay is needed.
    db = Database(settings.resolved_database_url(), settings.resolved_schema())
    try:
        if settings.run_migrations:
            await db.create_tables(messaging_metadata, metadata)
        async with UnitOfWork(db, settings.service_name) as uow:
            report = await import_registry(
                uow,
                customers=uploads.get("customers"),
                contacts=uploads.get("contacts"),
                invalid_phones=policy,
                actor=f"cli:{_operator()}",
                rules=Rules.from_settings(settings),
            )
            await uow.commit()
        return report
    finally:
        await db.dispose()


def _operator() -> str:
    """Who ran the import, for the change history; containers often have no user name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
