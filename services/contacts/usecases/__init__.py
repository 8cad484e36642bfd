"""What the contacts service does; HTTP routes, event handlers and the CLI all call these.

* :mod:`.imports`: bulk CSV import and export of the registry.
* :mod:`.registry`: accounts, contacts and areas edited one by one, ownership transfers,
  change history.
* :mod:`.maintenance`: the worklist: the registry scan, delivery and complaint feedback,
  assigning and closing items.
* :mod:`.lists`: drafting an outage's notification list from a trace, the review (edits,
  approval, rejection) and what cancellations and new times do to it.

Each use case runs inside a unit of work its caller opened and commits: a route or the CLI
commits its own, an event handler's is committed by the consumer together with the inbox
claim, so a redelivered event changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from services.contacts.config import ContactsSettings
from services.contacts.domain.listing import ListingPolicy
from services.contacts.domain.maintenance import MaintenancePolicy
from shared.channel_policy import ChannelPolicy, load_policy


@dataclass(frozen=True, slots=True)
class Rules:
    """The settings the use cases decide by, read once at start-up."""

    listing: ListingPolicy
    maintenance: MaintenancePolicy
    invalid_after_failures: int

    @property
    def timezone(self) -> ZoneInfo:
        zone = self.listing.timezone
        assert isinstance(zone, ZoneInfo)
        return zone

    @classmethod
    def from_settings(
        cls, settings: ContactsSettings, channels: ChannelPolicy | None = None
    ) -> Rules:
        """The rules of ``settings``; the channel policy file is read and validated here."""
        return cls(
            listing=ListingPolicy(
                channels=channels or load_policy(settings.channel_policy),
                timezone=ZoneInfo(settings.timezone),
                recent_change=timedelta(days=settings.recent_change_days),
            ),
            maintenance=MaintenancePolicy(
                unverified_after=timedelta(days=settings.unverified_after_days),
                shared_number_accounts=settings.shared_number_accounts,
                quiet_after_closing=timedelta(days=settings.reopen_after_days),
            ),
            invalid_after_failures=settings.invalid_after_failures,
        )
