"""Drafting the notification list of a 20,000-account outage, on SQLite and on PostgreSQL.

``python -m bench.contacts [--accounts 20000] [--repeat 5] [--backend sqlite|postgres|both]``

A city district is generated (``tools.network_gen``: realistic names, shared electricians,
landlines, invalid numbers, accounts without contacts), each account gets a billing contact
until there are about two contacts per account, a property management office is registered for
every fourth transformer area, and all of it is imported through the import use case. Then
one outage taking out every account is traced ``--repeat`` times as different outages; each is
drafted exactly as the ``outage.traced`` handler does (registry reads, channel plans, merged
recipients, warnings, the comparison with the previous approved list on the same feeders,
storage) and committed, and only that is timed. Each draft is approved (not timed) so the next
is compared with it, as in production. Deterministic: the same arguments draft the same lists.

PostgreSQL is ``BENCH_DATABASE_URL`` (default the test server, 127.0.0.1:5432); the bench uses
a scratch schema it drops afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from services.contacts.adapters.db import metadata
from services.contacts.config import ContactsSettings
from services.contacts.domain.imports import InvalidPhonePolicy
from services.contacts.domain.registry import AreaKind
from services.contacts.usecases import Rules
from services.contacts.usecases.imports import UploadedCsv, import_registry
from services.contacts.usecases.lists import approve_list, draft_list_for_trace
from services.contacts.usecases.registry import ContactInput, add_area_contact, put_area
from shared.db import Database
from shared.events import (
    AffectedAccount,
    FeederScope,
    OutageDetails,
    OutageTraced,
    TransformerScope,
)
from shared.outbox import messaging_metadata
from shared.uow import UnitOfWork
from tools.network_gen import NetworkSpec, generate

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CONTACTS_PER_ACCOUNT = 2.0


@dataclass(frozen=True)
class District:
    customers: bytes
    contacts: bytes
    contact_count: int
    affected: list[AffectedAccount]
    transformers: list[TransformerScope]
    feeders: list[FeederScope]


def build_district(accounts: int, workdir: Path) -> District:
    """The generated bundle, topped up with billing contacts, and the trace of its outage."""
    generate(workdir, NetworkSpec(customers=accounts, seed=7))
    customers = (workdir / "customers.csv").read_bytes()
    contact_rows = list(csv.reader(io.StringIO((workdir / "contacts.csv").read_text())))
    header, rows = contact_rows[0], contact_rows[1:]
    roles: defaultdict[str, set[str]] = defaultdict(set)
    for account_id, role, *_ in rows:
        roles[account_id].add(role)
    wanted = int(accounts * CONTACTS_PER_ACCOUNT)
    extra = 0
    for number, account_id in enumerate(sorted(roles)):
        if len(rows) >= wanted:
            break
        if "billing" not in roles[account_id]:
            rows.append([account_id, "billing", "财务", f"199{number:08d}"])
            extra += 1
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)

    nodes = {row["node_id"]: row for row in csv.DictReader((workdir / "nodes.csv").open())}
    per_node: Counter[str] = Counter()
    affected = []
    # Feeders: the generator numbers nodes feeder by feeder, so each source node starts one.
    sources = sorted(node_id for node_id, row in nodes.items() if row["kind"] == "source")
    for row in csv.DictReader((workdir / "customers.csv").open()):
        feeder = max((s for s in sources if s <= row["node_id"]), default=sources[0])
        per_node[row["node_id"]] += 1
        affected.append(
            AffectedAccount(
                account_id=row["account_id"],
                isolating_device="D00000001",
                node_id=row["node_id"],
                feeder=feeder,
            )
        )
    transformers = [
        TransformerScope(node_id=node_id, name=nodes[node_id]["name"], customers=count)
        for node_id, count in sorted(per_node.items())
        if nodes[node_id]["kind"] == "transformer_lv"
    ]
    feeder_counts = Counter(a.feeder for a in affected)
    feeders = [
        FeederScope(source_node=s, name=nodes[s]["name"], customers=feeder_counts[s])
        for s in sources
    ]
    return District(customers, out.getvalue().encode(), len(rows), affected, transformers, feeders)


async def run_backend(
    backend: str, district: District, repeat: int, workdir: Path
) -> tuple[list[float], list[float], dict[str, int]]:
    """Wall and CPU seconds of each timed draft, and the counts of the last list.

    CPU is this process's (the service's) time: on SQLite nearly all the work, on PostgreSQL
    without the server's share.
    """
    schema = f"bench_{uuid.uuid4().hex[:10]}_contacts"
    if backend == "postgres":
        url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
    else:
        url = f"sqlite+aiosqlite:///{workdir / f'contacts-{uuid.uuid4().hex[:6]}.db'}"
    settings = ContactsSettings(database_url=url, database_schema=schema, var_dir=workdir)
    rules = Rules.from_settings(settings)
    db = Database(url, schema)
    try:
        await db.create_tables(messaging_metadata, metadata)
        async with UnitOfWork(db, "contacts") as uow:
            await import_registry(
                uow,
                customers=UploadedCsv("customers.csv", io.BytesIO(district.customers)),
                contacts=UploadedCsv("contacts.csv", io.BytesIO(district.contacts)),
                invalid_phones=InvalidPhonePolicy.FLAG,
                actor="bench",
                rules=rules,
            )
            for number, scope in enumerate(district.transformers[::4]):
                await put_area(
                    uow,
                    scope.node_id,
                    name=scope.name,
                    kind=AreaKind.TRANSFORMER_AREA,
                    node_ids=[scope.node_id],
                    actor="bench",
                )
                await add_area_contact(
                    uow,
                    scope.node_id,
                    ContactInput("property_management", f"物业{number}", f"1330000{number:04d}"),
                    actor="bench",
                    reason="bench",
                )
            await uow.commit()
        timings: list[float] = []
        cpu: list[float] = []
        counts: dict[str, int] = {}
        for outage in range(repeat + 1):
            trace = OutageTraced(
                outage_id=f"BENCH-{outage}",
                details=OutageDetails(
                    kind="planned",
                    starts_at=datetime(2026, 3, 9, 0, 0, tzinfo=UTC),
                    ends_at=datetime(2026, 3, 9, 9, 0, tzinfo=UTC),
                    work="110kV城东变全站检修",
                    area="城东变供电范围",
                    planned_by="planner-bench",
                ),
                model_version=1,
                affected_accounts=district.affected,
                transformers=district.transformers,
                feeders=district.feeders,
            )
            started, started_cpu = time.perf_counter(), time.process_time()
            async with UnitOfWork(db, "contacts") as uow:
                draft = await draft_list_for_trace(uow, trace, rules)
                await uow.commit()
            elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
            assert draft is not None
            # The first draft has no earlier list to be compared with; it warms up only.
            if outage:
                timings.append(elapsed)
                cpu.append(elapsed_cpu)
            c = draft.counts
            counts = {
                "accounts": c.accounts,
                "contacts": sum(len(e.contacts) for e in draft.entries),
                "recipients": c.recipients,
                "first wave": c.first_wave,
                "warnings": c.warnings,
            }
            async with UnitOfWork(db, "contacts") as uow:
                await approve_list(uow, trace.outage_id, "reviewer-bench")
                await uow.commit()
        return timings, cpu, counts
    finally:
        await db.drop_schema()
        await db.dispose()


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPU, {model}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.contacts")
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    with tempfile.TemporaryDirectory(prefix="bench-contacts-") as tmp:
        workdir = Path(tmp)
        district = build_district(args.accounts, workdir / "bundle")
        print(f"machine: {machine()}")
        print(f"registry: {args.accounts} accounts, {district.contact_count} contacts")
        print(
            "| backend | drafts | wall median s | wall min s | CPU median s | accounts "
            "| contacts | recipients | first wave | warnings | load average |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for backend in backends:
            timings, cpu, counts = asyncio.run(run_backend(backend, district, args.repeat, workdir))
            print(
                f"| {backend} | {len(timings)} | {statistics.median(timings):.3f} "
                f"| {min(timings):.3f} | {statistics.median(cpu):.3f} | "
                + " | ".join(str(counts[k]) for k in counts)
                + f" | {os.getloadavg()[0]:.1f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
