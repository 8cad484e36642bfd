"""Tables, repositories and the topology client of the reconciliation service."""
