"""HTTP interface of the contacts service."""
