"""Persistence of the receipts service."""
