"""Pure logic of the reconciliation service: no I/O, no framework, no other service."""
