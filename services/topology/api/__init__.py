"""The HTTP API of the topology service."""
