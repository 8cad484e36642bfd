"""Period rates, and fixes as topology change batches."""

from __future__ import annotations

from reconciliation_grids import T0, network

from services.reconciliation.domain.fixes import AddTie, Fix, MoveCustomer, SetNormalState
from services.reconciliation.domain.reports import OutageFigures, period_report


def figures(outage, **counts):
    base = {"listed": 0, "missed": 0, "wrong": 0, "confirmed": 0, "unknown": 0}
    base.update(counts)
    return OutageFigures(outage, T0, 1, **base)


def test_rates_are_shares_of_what_the_meters_could_judge():
    report = period_report(
        [
            figures("O1", listed=100, confirmed=90, wrong=5, unknown=5, missed=10),
            figures("O2", listed=50, confirmed=50),
        ]
    )
    assert (report.outages, report.listed, report.missed, report.wrong) == (2, 150, 10, 5)
    assert report.missed_rate == round(10 / 150, 6)
    assert report.wrong_rate == round(5 / 145, 6)
    assert report.unknown_share == round(5 / 150, 6)


def test_a_period_without_outages_has_no_rates():
    report = period_report([])
    assert (report.missed_rate, report.wrong_rate, report.unknown_share) == (None, None, None)


def test_a_fix_is_proposed_as_a_change_batch_of_origin_meter_reconciliation():
    model = network()
    fix = Fix((SetNormalState("SW2", False), SetNormalState("TIE", True)))
    changes = fix.proposed_changes(model, outage_id="O1", ticket=fix.suggestion_id)
    assert [(c["kind"], c["device_id"], c["normal_state"]) for c in changes] == [
        ("device_state", "SW2", "open"),
        ("device_state", "TIE", "closed"),
    ]
    assert {c["origin"] for c in changes} == {"meter_reconciliation"}
    assert {c["ticket"] for c in changes} == {fix.suggestion_id}
    assert "O1" in changes[0]["reason"]
    move = Fix((MoveCustomer("a1", "T3"),)).proposed_changes(model, outage_id="O1", ticket="t")
    assert move[0] | {"reason": ""} == {
        "kind": "customer_move",
        "account_id": "a1",
        "node_id": "T3",
        "reason": "",
        "origin": "meter_reconciliation",
        "ticket": "t",
    }
    (tie,) = Fix((AddTie("P3", "Q2"),)).proposed_changes(model, outage_id="O1", ticket="t")
    assert (tie["kind"], tie["from_node"], tie["to_node"], tie["normal_state"]) == (
        "device_add",
        "P3",
        "Q2",
        "closed",
    )


def test_the_same_changes_always_get_the_same_suggestion_id():
    one = Fix((SetNormalState("SW2", False), SetNormalState("TIE", True)))
    other = Fix((SetNormalState("TIE", True), SetNormalState("SW2", False)))
    assert one.suggestion_id == other.suggestion_id
    assert one.suggestion_id != Fix((SetNormalState("SW2", False),)).suggestion_id
    assert Fix((AddTie("P3", "Q2"),)).key == Fix((AddTie("Q2", "P3"),)).key


def test_applying_a_fix_changes_the_model_it_names_and_nothing_else():
    model = network()
    fixed = Fix((MoveCustomer("a1", "T3"), SetNormalState("TIE", True))).apply(model)
    assert fixed.node_ids[fixed.account_vertex["a1"]] == "T3"
    assert fixed.devices[fixed.device_index["TIE"]].closed
    assert model.node_ids[model.account_vertex["a1"]] == "T1"
    assert not model.devices[model.device_index["TIE"]].closed
