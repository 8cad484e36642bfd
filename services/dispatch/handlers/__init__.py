"""Event handlers of the dispatch service (see :mod:`services.dispatch.handlers.events`)."""
