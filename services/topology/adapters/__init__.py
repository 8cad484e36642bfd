"""Storage of the topology service: tables, repositories and the in-memory network model."""
