"""Who is owed a message: one per address, never the same notice twice."""

from services.dispatch.domain.audience import Addressee, merge_by_address, newly_owed_notice


def person(address: str, *accounts: str, channel: str = "sms") -> Addressee:
    return Addressee(channel, address, "", tuple(accounts), tuple(f"户{a}" for a in accounts))


def test_two_entries_for_one_phone_become_one_naming_all_accounts():
    merged = merge_by_address([person("+8613800000001", "A"), person("+8613800000001", "B", "A")])
    assert merged == [Addressee("sms", "+8613800000001", "", ("A", "B"), ("户A", "户B"))]


def test_the_same_address_on_another_channel_is_another_addressee():
    merged = merge_by_address(
        [person("+8613800000001", "A"), person("+8613800000001", "A", channel="voice")]
    )
    assert len(merged) == 2


def test_a_newer_list_skips_phones_already_told_of_all_their_accounts():
    told = [person("+8613800000001", "A"), person("+8613800000002", "B")]
    recipients = [
        person("+8613800000001", "A"),
        person("+8613800000002", "B", "C"),
        person("+8613800000003", "D"),
    ]
    owed = newly_owed_notice(recipients, told)
    assert [a.address for a in owed] == ["+8613800000002", "+8613800000003"]
    assert owed[0].account_ids == ("B", "C")


def test_a_first_list_owes_everyone():
    recipients = [person("+8613800000001", "A"), person("+8613800000002", "B")]
    assert newly_owed_notice(recipients, []) == recipients
