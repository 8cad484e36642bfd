"""Receipts: closes the loop on every notice, so that "sent" is never mistaken for "told".

It answers the paper's fourth cause of missed notices (the utility believed the SMS were sent;
the carrier had failed) with its remedies: every notice is matched with the carrier's delivery
report, a call result, a customer's reply or a field signature; an account with no confirmed
delivery by its escalation point moves to the next channel and contact, and finally to a field
visit, before the deadline; numbers that keep failing go back to the contact registry;
complaints are traced to their cause; and coverage, evidence and reports show whether the
notices work.
"""
