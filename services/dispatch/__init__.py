"""Dispatch: turns approved notification lists into notices on every channel, exactly once.

Every message is a row, keyed by ``(outage, list version, notice kind, revision, channel,
address)`` and written before its provider is called, so a redelivered event queues nothing
twice and a crash never leads to a blind resend: a call whose outcome is unknown is settled by
asking the provider. The channel policy (``shared.channel_policy``) says when messages may go.
"""
