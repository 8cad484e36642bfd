"""Pure rules of the receipts service: carrier and call vocabularies, delivery states, the
ledger of an outage, escalation points, replies, complaints, coverage, evidence, measures."""
