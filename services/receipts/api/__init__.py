"""HTTP interface of the receipts service."""
