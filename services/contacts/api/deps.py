"""What the routes of the contacts service depend on: the runtime, settings, rules and roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from services.contacts.config import ContactsSettings
from services.contacts.usecases import Rules
from shared.auth import Principal, Role, require
from shared.runtime import ServiceRuntime


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def _settings(request: Request) -> ContactsSettings:
    settings: ContactsSettings = request.app.state.settings
    return settings


def _rules(request: Request) -> Rules:
    rules: Rules = request.app.state.rules
    return rules


# Row ids are 64-bit in storage: a larger number is refused as invalid, not looked up.
MAX_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]

Runtime = Annotated[ServiceRuntime, Depends(_runtime)]
Settings = Annotated[ContactsSettings, Depends(_settings)]
RulesDep = Annotated[Rules, Depends(_rules)]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
# Who keeps the registry up to date by hand: the office (admin) and field staff after visits.
Maintainer = Annotated[Principal, Depends(require(Role.ADMIN, Role.FIELD))]
# Who works the maintenance worklist: calling, visiting, fixing numbers.
Worker = Annotated[Principal, Depends(require(Role.ADMIN, Role.FIELD, Role.DISPATCHER))]
ListReader = Annotated[Principal, Depends(require(Role.PLANNER, Role.REVIEWER, Role.DISPATCHER))]
Reviewer = Annotated[Principal, Depends(require(Role.REVIEWER))]
