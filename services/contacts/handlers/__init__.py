"""Event consumers of the contacts service."""
