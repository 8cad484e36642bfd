"""The contacts service: the customer contact registry and the notification lists of outages.

It imports accounts and their contacts, drafts each outage's list from the topology trace,
has a second person approve it, and announces the approved recipients (``list.approved``).
"""
