"""The four classes of a reconciliation, and the scope losses are judged in."""

from __future__ import annotations

from reconciliation_grids import accounts, network, opening

from services.reconciliation.domain.inference import InferenceSettings
from services.reconciliation.domain.network import Supply
from services.reconciliation.domain.reconcile import classify, judge, scope_of

LOST, ON = Supply.LOST, Supply.ON


def test_each_account_falls_in_exactly_one_class():
    readings = {"L1": LOST, "L2": ON, "X1": LOST, "X2": ON}
    result = classify(["L1", "L2", "L3"], readings, scope={"L1", "L2", "L3", "X1", "X2"})
    assert result.confirmed == ("L1",)
    assert result.wrong == ("L2",)
    assert result.unknown == ("L3",)
    assert result.missed == ("X1",)
    assert result.counts() == {"listed": 3, "missed": 1, "wrong": 1, "confirmed": 1, "unknown": 1}


def test_losses_outside_the_scope_or_claimed_by_another_outage_are_not_missed():
    readings = {"far": LOST, "other": LOST, "near": LOST}
    result = classify([], readings, scope={"other", "near"}, claimed={"other"})
    assert result.missed == ("near",)


def test_the_scope_is_the_feeders_touched_and_their_tie_neighbours():
    model = network(without=["TIE"])
    assert scope_of(model, accounts("T3"), opening("SW2")) == {"S1"}
    assert scope_of(network(), accounts("T3"), opening("SW2")) == {"S1", "S2"}


def test_judging_an_outage_classifies_it_and_keeps_the_evidence_in_scope():
    model = network(without=["TIE"])
    readings = {a: LOST for a in [*accounts("T3"), "a1"]}
    readings.update({a: ON for a in accounts("T1")[1:] + accounts("T2") + accounts("U1")})
    judgement = judge(
        model,
        outage_id="O1",
        operations=opening("SW2"),
        listed=accounts("T3"),
        readings=readings,
        claimed=(),
        history=[],
        history_limit=5,
        settings=InferenceSettings(),
    )
    assert judgement.reconciliation.missed == ("a1",)
    assert judgement.reconciliation.confirmed == tuple(accounts("T3"))
    assert "d1" not in judgement.readings  # S2's meters are another feeder's business here
    assert [s.fix.key for s in judgement.inference.suggestions] == ["move:a1>T3"]
