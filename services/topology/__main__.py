"""``python -m services.topology serve|import DIR``: run the service, or load a network bundle.

``import DIR`` reads nodes.csv, devices.csv and customers.csv from DIR into the configured
database (TOPOLOGY_DATABASE_URL, or the SQLite file of embedded mode), all or nothing, exactly
as ``POST /v1/network/import`` does. A running service picks the new model up by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from contextlib import ExitStack
from pathlib import Path

import uvicorn

from services.topology.adapters.db import metadata
from services.topology.app import create_app
from services.topology.config import TopologySettings
from services.topology.domain.bundle import BUNDLE_FILES
from services.topology.usecases import model
from shared.db import Database
from shared.errors import InvalidInput
from shared.outbox import messaging_metadata
from shared.uow import UnitOfWork


async def import_directory(directory: Path, settings: TopologySettings) -> int:
    """Import the bundle in ``directory``; print the counts, or the bad rows and return 1."""
    missing = [name for name in BUNDLE_FILES if not (directory / name).is_file()]
    if missing:
        sys.stderr.write(f"{directory}: 缺少文件 {', '.join(missing)}\n")
        return 2
    db = Database(settings.resolved_database_url(), settings.resolved_schema())
    try:
        if settings.run_migrations:
            await db.create_tables(messaging_metadata, metadata)
        with ExitStack() as stack:
            files = {
                name: stack.enter_context((directory / name).open("rb")) for name in BUNDLE_FILES
            }
            async with UnitOfWork(db, settings.service_name) as uow:
                imported = await model.import_network(
                    files, "cli", uow, chunk_size=settings.import_chunk_size
                )
                await uow.commit()
    except InvalidInput as error:
        sys.stderr.write(f"导入失败：{error.detail}\n")
        for row in error.errors:
            sys.stderr.write(
                f"  {row['file']} 第 {row['row']} 行 {row['field'] or ''}：{row['message']}\n"
            )
        return 1
    finally:
        await db.dispose()
    counts = imported.counts
    sys.stdout.write(
        f"已导入网络模型版本 {counts['model_version']}：节点 {counts['nodes']}，"
        f"设备 {counts['devices']}，用户 {counts['customers']}\n"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.topology",
        description="The topology service; settings come from TOPOLOGY_* variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the HTTP API and the tracer")
    serve.add_argument("--host", help="default: TOPOLOGY_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: TOPOLOGY_PORT or 8001")
    serve.add_argument("--log-level", default="info")
    load = commands.add_parser("import", help="load a CSV bundle into the database")
    load.add_argument("directory", type=Path, help="holds nodes.csv, devices.csv, customers.csv")
    args = parser.parse_args(argv)
    settings = TopologySettings()
    if args.command == "import":
        return asyncio.run(import_directory(args.directory, settings))
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=args.log_level,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
