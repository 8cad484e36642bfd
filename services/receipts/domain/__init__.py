"""Pure rules of the receipts service: carrier vocabularies, delivery states, coverage."""
