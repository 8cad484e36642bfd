"""Storage of the contacts service."""
