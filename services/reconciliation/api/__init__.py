"""HTTP routes of the reconciliation service."""
