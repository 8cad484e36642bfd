"""Inference on small cases whose answer is known."""

from __future__ import annotations

from reconciliation_grids import evidence, network, opening

from services.reconciliation.domain.fixes import AddTie, Fix, MoveCustomer, SetNormalState
from services.reconciliation.domain.inference import confidence, infer


def test_a_model_that_matches_the_meters_needs_no_fix():
    model = network()
    result = infer(
        model, [evidence("O1", model, opening("SW2")), evidence("O2", model, opening("F1"))]
    )
    assert result.suggestions == []
    assert result.unexplained == {}


def test_a_customer_that_lost_supply_with_another_area_is_moved_to_it():
    model, field = network(), network(moved={"a1": "T3"})
    result = infer(model, [evidence("O1", field, opening("SW2"))])
    (suggestion,) = result.suggestions
    assert suggestion.fix == Fix((MoveCustomer("a1", "T3"),))
    assert suggestion.explained == {"O1": ("a1",)}
    assert suggestion.alternatives == ()
    assert suggestion.confidence == 0.5
    assert result.unexplained == {}


def test_a_customer_that_kept_supply_alone_is_ambiguous_until_another_outage_tells():
    model, field = network(), network(moved={"a1": "T3"})
    first = evidence("O1", field, opening("F1"))
    alone = infer(model, [first]).suggestions[0]
    assert isinstance(alone.fix.changes[0], MoveCustomer)
    assert alone.alternatives, "several areas kept supply; the evidence cannot choose"
    assert alone.confidence < 0.5

    both = infer(model, [first, evidence("O2", field, opening("SW2"))]).suggestions[0]
    assert both.fix == Fix((MoveCustomer("a1", "T3"),))
    assert both.explained == {"O1": ("a1",), "O2": ("a1",)}
    assert both.alternatives == ()
    assert both.confidence == 0.75


def test_a_part_fed_from_the_next_feeder_is_a_switch_open_and_a_tie_closed():
    model = network()
    field = network(states={"SW2": False, "TIE": True})
    result = infer(model, [evidence("O1", field, opening("SW1"))])
    (suggestion,) = result.suggestions
    assert suggestion.fix == Fix((SetNormalState("SW2", False), SetNormalState("TIE", True)))
    assert suggestion.explained == {"O1": ("c1", "c2", "c3", "c4", "c5")}
    assert suggestion.contradicted == {}
    assert suggestion.confidence > 0.95
    assert result.unexplained == {}


def test_the_same_boundary_seen_from_the_other_feeder_gives_the_same_fix():
    model = network()
    field = network(states={"SW2": False, "TIE": True})
    (suggestion,) = infer(model, [evidence("O1", field, opening("SW5"))]).suggestions
    assert suggestion.fix == Fix((SetNormalState("SW2", False), SetNormalState("TIE", True)))
    assert suggestion.explained == {"O1": ("c1", "c2", "c3", "c4", "c5")}


def test_a_missing_tie_is_narrowed_down_as_outages_accumulate():
    model = network(without=["TIE"])
    field = network(without=["TIE"], states={"SW2": False}, extra=[("NEW", "P3", "Q2")])
    history = [evidence("O1", field, opening("SW4"))]
    first = infer(model, history).suggestions[0]
    assert any(isinstance(c, AddTie) for c in first.fix.changes)
    assert first.alternatives, "from one outage the tie's ends cannot be told"

    history += [
        evidence("O2", field, opening("SW5")),
        evidence("O3", field, opening("F3")),
        evidence("O4", field, opening("F5")),
    ]
    result = infer(model, history)
    (suggestion,) = result.suggestions
    assert suggestion.fix == Fix((SetNormalState("SW2", False), AddTie("P3", "Q2")))
    assert suggestion.alternatives == ()
    assert result.unexplained == {}


def test_two_errors_in_one_outage_give_two_fixes():
    model = network()
    field = network(moved={"b1": "U1"}, states={"SW2": False, "TIE": True})
    result = infer(model, [evidence("O1", field, opening("SW1"))])
    fixes = {s.fix for s in result.suggestions}
    assert Fix((SetNormalState("SW2", False), SetNormalState("TIE", True))) in fixes
    moves = [s for s in result.suggestions if isinstance(s.fix.changes[0], MoveCustomer)]
    assert [s.fix.changes[0].account_id for s in moves] == ["b1"]  # type: ignore[union-attr]
    assert result.unexplained == {}


def test_meters_that_did_not_report_are_not_evidence():
    model, field = network(), network(moved={"a1": "T3"})
    heard = evidence("O1", field, opening("SW2"))
    silent = type(heard)(
        "O1", heard.operations, {k: v for k, v in heard.readings.items() if k != "a1"}
    )
    assert infer(model, [silent]).suggestions == []


def test_confidence_grows_with_evidence_and_falls_with_doubt():
    assert confidence(1, 0, 0) == 0.5
    assert confidence(2, 0, 0) == 0.75
    assert confidence(2, 0, 1) == 0.375
    assert confidence(3, 1, 0) < confidence(3, 0, 0)
    assert confidence(0, 0, 0) == 0.0
