"""The monotonic rule for a notice's delivery state, over every pair of states."""

from __future__ import annotations

import itertools

import pytest

from services.receipts.domain.status import ReceiptStatus, advance

A, U, D, F, E = (
    ReceiptStatus.ACCEPTED,
    ReceiptStatus.UNKNOWN,
    ReceiptStatus.DELIVERED,
    ReceiptStatus.FAILED,
    ReceiptStatus.EXPIRED,
)

# Rows: the state before; columns: the incoming receipt, in the order A, U, D, F, E.
EXPECTED: dict[ReceiptStatus | None, tuple[ReceiptStatus, ...]] = {
    None: (A, U, D, F, E),
    A: (A, U, D, F, E),
    U: (U, U, D, F, E),
    D: (D, D, D, D, D),
    F: (F, F, F, F, F),
    E: (E, E, D, E, E),
}
INCOMING = (A, U, D, F, E)


@pytest.mark.parametrize(("current", "incoming"), list(itertools.product(EXPECTED, INCOMING)))
def test_every_transition_follows_the_table(current, incoming):
    expected = EXPECTED[current][INCOMING.index(incoming)]

    assert advance(current, incoming) is expected


@pytest.mark.parametrize(("current", "incoming"), list(itertools.product(EXPECTED, INCOMING)))
def test_a_final_state_never_becomes_non_final(current, incoming):
    if current is not None and current.is_final:
        assert advance(current, incoming).is_final


def test_a_late_delivered_overrides_a_premature_expiry_but_not_a_failure():
    assert advance(E, D) is D
    assert advance(F, D) is F
