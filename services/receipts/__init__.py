"""Receipts: carrier delivery reports, normalised, deduplicated and joined to the notices sent.

It answers the paper's fourth cause of missed notices ("the SMS was never actually delivered"):
every notice dispatch hands to a carrier is matched with the carrier's delivery report, and
``GET /v1/outages/{id}/coverage`` tells how many affected accounts were really reached.
"""
