"""A newer approved list: newcomers are told, nobody gets the same notice twice."""

from __future__ import annotations

from tests.integration.dispatch.conftest import (
    FakeProvider,
    approved,
    by_address,
    phone,
    recipient,
    statuses,
)


async def test_a_newer_version_tells_only_newcomers_and_phones_with_new_accounts(start_dispatch):
    provider = FakeProvider()
    dispatch = await start_dispatch(provider.app)
    v1 = approved("O-1", [recipient(phone(1), "A"), recipient(phone(2), "B")])
    await dispatch.publish(v1)
    await dispatch.wait_for("O-1", lambda ms: set(statuses(ms).values()) == {"submitted"})

    v2 = approved(
        "O-1",
        [recipient(phone(1), "A"), recipient(phone(2), "B", "C"), recipient(phone(3), "D")],
        version=2,
    )
    await dispatch.publish(v2)
    found = await dispatch.wait_for(
        "O-1", lambda ms: len(ms) == 4 and {m["status"] for m in ms} == {"submitted"}
    )
    versions = sorted((m["address"], m["list_version"]) for m in found)
    assert versions == [(phone(1), 1), (phone(2), 1), (phone(2), 2), (phone(3), 2)]
    assert (
        "客户B、客户C" in by_address([m for m in found if m["list_version"] == 2])[phone(2)]["text"]
    )
    assert provider.calls == {phone(1): 1, phone(2): 2, phone(3): 1}

    await dispatch.publish(v1)  # an older version arriving late changes nothing
    assert len(await dispatch.messages("O-1")) == 4


async def test_a_newer_version_replaces_notices_of_the_older_one_not_yet_sent(start_dispatch):
    provider = FakeProvider(scripts={phone(2): ["503-later", "accept"]})
    dispatch = await start_dispatch(provider.app)
    await dispatch.publish(approved("O-1", [recipient(phone(1)), recipient(phone(2))]))
    await dispatch.wait_for(
        "O-1", lambda ms: statuses(ms) == {phone(1): "submitted", phone(2): "queued"}
    )

    # Version 2 drops phone 2 (wrongly listed); its waiting notice must not go out.
    await dispatch.publish(approved("O-1", [recipient(phone(1))], version=2))
    [superseded] = [m for m in await dispatch.messages("O-1") if m["address"] == phone(2)]
    assert superseded["status"] == "cancelled"
    assert superseded["last_error"].startswith("superseded")
    assert provider.calls == {phone(1): 1, phone(2): 1}
