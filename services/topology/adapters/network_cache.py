"""The network model each replica holds in memory, kept at the version stored in the database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.topology.adapters.repository import NetworkRepository
from services.topology.domain.network import NetworkModel, Touch
from shared.timeutil import utcnow


class NetworkCache:
    """Hands out the current :class:`NetworkModel`, catching up when the stored version moved.

    Another replica (or ``python -m services.topology import``) may have changed the model; a
    one-row read of the version on each use notices it. Change batches since the held version
    are replayed from the history (milliseconds each); after an import, or when the history
    has a gap, the model is rebuilt from the tables. Either happens once, however many
    requests notice at the same time.
    """

    def __init__(self, touch_window: timedelta) -> None:
        self._model = NetworkModel.empty()
        self._lock = asyncio.Lock()
        self._touch_window = touch_window

    async def current(self, session: AsyncSession) -> NetworkModel:
        repository = NetworkRepository(session)
        version = await repository.version()
        if version != self._model.version:
            async with self._lock:
                if version != self._model.version:
                    self._model = await self._caught_up(repository)
        return self._model

    async def _caught_up(self, repository: NetworkRepository) -> NetworkModel:
        model = self._model
        if model.version > 0:
            batches = await repository.batches_since(model.version)
            if batches is not None:
                for batch in batches:
                    model = model.with_changes(
                        batch.changes,
                        version=batch.version,
                        touch=Touch(batch.changed_at, batch.batch_id),
                    )
                return model
        builder, version, touches = await repository.load(utcnow() - self._touch_window)
        # Building a city-sized model takes seconds of CPU; off the event loop.
        loaded = await asyncio.to_thread(builder.build, version)
        return loaded.with_touches(touches)

    async def install(self, model: NetworkModel) -> None:
        """Take a model this replica built (an import, a change batch) once committed; a newer
        one caught up meanwhile is kept."""
        async with self._lock:
            if model.version > self._model.version:
                self._model = model
