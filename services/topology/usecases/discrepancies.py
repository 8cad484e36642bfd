"""Spot checks and discrepancies: what the field found that the model contradicts, and
complaints traced to the model or the trace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.topology.adapters.network_cache import NetworkCache
from services.topology.adapters.repository import (
    DiscrepancyRepository,
    NetworkRepository,
    SpotCheckRecord,
)
from services.topology.domain import messages
from services.topology.domain.changes import ModelView
from services.topology.domain.discrepancies import (
    Discrepancy,
    Observation,
    agrees,
    complaint_detail,
    modelled,
    new_discrepancy_id,
    new_spot_check_id,
)
from shared.errors import NotFound
from shared.events import ComplaintClassified
from shared.timeutil import utcnow
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class SpotCheck:
    checked_at: datetime
    ticket: str
    note: str
    observations: list[Observation]


@dataclass(frozen=True)
class ObservationResult:
    observation: Observation
    agrees: bool
    modelled: str | None
    discrepancy: Discrepancy | None
    already_open: bool


@dataclass(frozen=True)
class SpotCheckResult:
    spot_check_id: str
    model_version: int
    results: list[ObservationResult]


async def record_spot_check(
    check: SpotCheck, checked_by: str, uow: UnitOfWork, network: NetworkCache, timezone: str
) -> SpotCheckResult:
    """Compare what field staff found with the model; each contradiction opens a discrepancy
    linked to the last change of the element, unless the same one is open already."""
    repository = NetworkRepository(uow.session)
    found = DiscrepancyRepository(uow.session)
    model = await network.current(uow.session)
    accounts = {o.element_id for o in check.observations if o.kind.element_type == "customer"}
    view = ModelView(model, await repository.customers(accounts))
    now = utcnow()
    spot_check_id = new_spot_check_id(now, timezone)
    open_already = await found.open_on(
        (o.kind.element_type, o.element_id) for o in check.observations
    )
    results = []
    for observation in check.observations:
        value = modelled(view, observation)
        if agrees(view, observation):
            results.append(ObservationResult(observation, True, value, None, False))
            continue
        same = next((d for d in open_already if d.observation == observation), None)
        if same is not None:
            results.append(ObservationResult(observation, False, value, same, True))
            continue
        discrepancy = Discrepancy(
            id=new_discrepancy_id(now, timezone),
            origin="spot_check",
            element_type=observation.kind.element_type,
            element_id=observation.element_id,
            observation=observation,
            modelled=value,
            detail=observation.text,
            opened_by=checked_by,
            opened_at=now,
            source_id=spot_check_id,
            outage_id=None,
            caused_by=await repository.provenance(
                observation.kind.element_type, observation.element_id, exists=value is not None
            ),
        )
        await found.add(discrepancy)
        open_already.append(discrepancy)
        results.append(ObservationResult(observation, False, value, discrepancy, False))
    await found.add_spot_check(
        SpotCheckRecord(
            spot_check_id=spot_check_id,
            checked_by=checked_by,
            checked_at=check.checked_at,
            recorded_at=now,
            ticket=check.ticket,
            note=check.note,
            model_version=model.version,
            observations=[
                {
                    "kind": r.observation.kind.value,
                    "element_id": r.observation.element_id,
                    "value": r.observation.value,
                    "agrees": r.agrees,
                    "discrepancy_id": None if r.discrepancy is None else r.discrepancy.id,
                }
                for r in results
            ],
        )
    )
    return SpotCheckResult(spot_check_id, model.version, results)


async def open_complaint_discrepancy(
    complaint: ComplaintClassified, uow: UnitOfWork, timezone: str
) -> Discrepancy | None:
    """A complaint traced to the model or the trace opens a discrepancy on its account, linked
    to the last change of the account; other causes belong to other services."""
    if complaint.cause != "model_or_trace":
        return None
    found = DiscrepancyRepository(uow.session)
    if await found.by_complaint(complaint.complaint_id) is not None:
        return None
    repository = NetworkRepository(uow.session)
    stored = (await repository.customers({complaint.account_id}))[complaint.account_id]
    node = None if stored is None else str(stored["node_id"])
    discrepancy = Discrepancy(
        id=new_discrepancy_id(complaint.classified_at, timezone),
        origin="complaint",
        element_type="customer",
        element_id=complaint.account_id,
        observation=None,
        modelled=node,
        detail=complaint_detail(
            complaint.complaint_id,
            complaint.outage_id,
            complaint.complaint_type,
            complaint.detail,
        ),
        opened_by="complaint",
        opened_at=complaint.classified_at,
        source_id=complaint.complaint_id,
        outage_id=complaint.outage_id,
        caused_by=await repository.provenance(
            "customer", complaint.account_id, exists=stored is not None
        ),
    )
    await found.add(discrepancy)
    return discrepancy


async def list_discrepancies(
    uow: UnitOfWork,
    *,
    status: str | None,
    element_id: str | None,
    source_id: str | None,
    limit: int,
) -> list[Discrepancy]:
    return await DiscrepancyRepository(uow.session).listed(
        status=status, element_id=element_id, source_id=source_id, limit=limit
    )


async def get_discrepancy(discrepancy_id: str, uow: UnitOfWork) -> Discrepancy:
    discrepancy = await DiscrepancyRepository(uow.session).get(discrepancy_id)
    if discrepancy is None:
        raise NotFound(messages.DISCREPANCY_UNKNOWN.format(discrepancy=discrepancy_id))
    return discrepancy
