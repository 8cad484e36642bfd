"""Who gets a message: a new list version's newcomers, and the people owed a follow-up."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import time

from services.dispatch.domain.messages import unique_in_order


@dataclass(frozen=True)
class Addressee:
    """One address on one channel and the accounts a message to it speaks for."""

    channel: str
    address: str
    contact_name: str
    account_ids: tuple[str, ...]
    account_names: tuple[str, ...]
    role: str = ""
    wave: int = 0
    audience: str = ""
    location: str = ""
    call_earliest: time | None = None
    call_latest: time | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.channel, self.address


def merge_by_address(addressees: Iterable[Addressee]) -> list[Addressee]:
    """One addressee per (channel, address), naming every account of the merged ones.

    The idempotency key allows one message per address, so two entries for one phone must
    become one message naming both sets of accounts, not one message that forgets the other.
    The first entry's role, wave and audience stand for the merged one.
    """
    merged: dict[tuple[str, str], Addressee] = {}
    for item in addressees:
        seen = merged.get(item.key)
        if seen is None:
            merged[item.key] = item
            continue
        merged[item.key] = replace(
            seen,
            contact_name=seen.contact_name or item.contact_name,
            account_ids=tuple(unique_in_order([*seen.account_ids, *item.account_ids])),
            account_names=tuple(unique_in_order([*seen.account_names, *item.account_names])),
            wave=min(seen.wave, item.wave),
            location=seen.location or item.location,
        )
    return list(merged.values())


def newly_owed_notice(
    recipients: Iterable[Addressee], already_told: Iterable[Addressee]
) -> list[Addressee]:
    """The recipients of an approved list who are owed a notice of the outage.

    ``already_told`` are the notices of earlier list versions that reached the provider or
    may have (sending, unknown, submitted). A recipient is skipped when such a notice to the
    same address already spoke for all of its accounts, so nobody gets the same notice twice;
    a phone that now also answers for a new account is told again, naming all of them, since
    otherwise the new account would never be told.
    """
    covered: dict[tuple[str, str], set[str]] = {}
    for notice in already_told:
        covered.setdefault(notice.key, set()).update(notice.account_ids)
    return [
        r
        for r in merge_by_address(recipients)
        if r.key not in covered or not set(r.account_ids) <= covered[r.key]
    ]


def followup_audience(
    told: Iterable[Addressee],
    *,
    channels: Collection[str] | None = None,
    audiences: Collection[str] | None = None,
) -> list[Addressee]:
    """Everyone told, once per (channel, address), limited to some channels or audiences.

    A follow-up (reminder, cancellation, new time, restoration) goes on the channel that
    reached the person, and to nobody who was not reached.
    """
    return [
        a
        for a in merge_by_address(told)
        if (channels is None or a.channel in channels)
        and (audiences is None or a.audience in audiences)
    ]
