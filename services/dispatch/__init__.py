"""Dispatch: turns an approved notification list into notices handed to channel providers.

Every notice is a row, keyed by ``(outage, list version, notice kind, channel, address)`` and
written before the provider is called, so a redelivered event queues nothing twice and a crash
never leads to a blind resend: a call whose outcome is unknown is settled by asking the provider.
"""
