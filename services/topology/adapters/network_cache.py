"""The network model each replica holds in memory, kept at the version stored in the database."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from services.topology.adapters.repository import NetworkRepository
from services.topology.domain.network import NetworkModel


class NetworkCache:
    """Hands out the current :class:`NetworkModel`, reloading it when the stored version moved.

    Another replica (or ``python -m services.topology import``) may have imported a new model;
    a one-row read of the version on each use notices it, and the model is rebuilt from the
    tables once, however many requests notice at the same time.
    """

    def __init__(self) -> None:
        self._model = NetworkModel.empty()
        self._lock = asyncio.Lock()

    async def current(self, session: AsyncSession) -> NetworkModel:
        repository = NetworkRepository(session)
        version = await repository.version()
        if version != self._model.version:
            async with self._lock:
                if version != self._model.version:
                    builder, loaded = await repository.load()
                    # Building a city-sized graph takes seconds of CPU; off the event loop.
                    self._model = await asyncio.to_thread(builder.build, loaded)
        return self._model

    async def install(self, model: NetworkModel) -> None:
        """Take the model an import built, once its transaction has committed."""
        async with self._lock:
            self._model = model
