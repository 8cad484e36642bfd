"""The back-office check: each finding on a small network built to hold one of each, and which
of them concern a trace's feeders.

::

    S1 ─B1─ N1 ─L1─ N2 ─T2─ TB (no customers)      N1, N2 both named 东1线#1杆
            │        │                              LOOP (closed) N2 ─ TA: a ring in S1
            T1      OPEN1 (open)                    DX: N1 ─ N404, a node nobody has
            │        │
           TA        I1 ─IL─ I2 (X1)                 I1, I2: an island next to S1
          A1,A2

    S2 ─X─ M1 ─Y─ S3      two sources paralleled through Y, closed; M1 ─T3─ TC (C1)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.topology.domain.checks import CheckPolicy, findings, scope_warnings
from services.topology.domain.network import NetworkBuilder, Touch
from services.topology.domain.tracer import trace
from shared.events import Operation

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
POLICY = CheckPolicy(busy_branch_customers=2, recent_change_days=30, listed_elements=20)


def district():
    builder = NetworkBuilder(strict=False)
    for node_id, kind, name in [
        ("S1", "source", "东1线"),
        ("N1", "pole", "东1线#1杆"),
        ("N2", "pole", "东1线#1杆"),
        ("TA", "transformer_lv", "甲台区"),
        ("TB", "transformer_lv", "乙台区"),
        ("I1", "pole", ""),
        ("I2", "pole", ""),
        ("S2", "source", "东2线"),
        ("S3", "source", "东3线"),
        ("M1", "pole", ""),
        ("TC", "transformer_lv", "丙台区"),
    ]:
        builder.add_node(node_id, kind, name)
    for device_id, start, end, closed, name in [
        ("B1", "S1", "N1", True, "出线开关"),
        ("L1", "N1", "N2", True, "分段开关"),
        ("T1", "N1", "TA", True, "甲配变"),
        ("T2", "N2", "TB", True, "乙配变"),
        ("LOOP", "N2", "TA", True, "分段开关"),
        ("OPEN1", "N2", "I1", False, ""),
        ("IL", "I1", "I2", True, ""),
        ("DX", "N1", "N404", True, ""),
        ("X", "S2", "M1", True, ""),
        ("Y", "M1", "S3", True, ""),
        ("T3", "M1", "TC", True, ""),
    ]:
        builder.add_device(device_id, start, end, normally_closed=closed, kind="switch", name=name)
    for account, node in [("A1", "TA"), ("A2", "TA"), ("X1", "I2"), ("C1", "TC"), ("Q1", "N404")]:
        builder.add_customer(account, node)
    model = builder.build(5)
    return model.with_touches([("N1", Touch(NOW - timedelta(days=3), "CHG-7"))])


MODEL = district()


def by_code(found):
    grouped: dict[str, list[tuple[str, ...]]] = {}
    for finding in found:
        grouped.setdefault(finding.code, []).append(finding.elements)
    return grouped


def test_the_whole_model_check_names_the_elements_of_each_finding():
    found = by_code(findings(MODEL, POLICY, NOW))

    assert found == {
        "duplicate_name": [("N1", "N2"), ("L1", "LOOP")],
        "empty_transformer": [("TB",)],
        "closed_loop": [("LOOP",)],
        "island": [("I1", "I2")],
        "sources_paralleled": [("S2", "S3", "Y")],
        "missing_node": [("DX", "N404"), ("Q1", "N404")],
        "busy_branch_changed": [("N1",)],
    }


def test_findings_say_what_is_wrong_in_words_and_name_their_feeders():
    found = {f.code: f for f in reversed(findings(MODEL, POLICY, NOW))}  # the first of each

    assert found["island"].feeders == ("S1",)
    assert "1 户用户" in found["island"].message
    assert "东1线" in found["island"].message
    assert found["sources_paralleled"].feeders == ("S2", "S3")
    assert "S2、S3" in found["sources_paralleled"].message
    assert found["busy_branch_changed"].message.count("CHG-7") == 1
    assert found["duplicate_name"].feeders == ("S1",)
    assert found["duplicate_name"].message.startswith("东1线内的节点 N1、N2 同名“东1线#1杆”")


def test_a_change_long_ago_or_a_small_branch_is_not_a_busy_branch_finding():
    old = MODEL.with_touches([])  # the recorded touch stays three days old
    later = NOW + timedelta(days=31)
    strict = CheckPolicy(busy_branch_customers=3)

    assert "busy_branch_changed" not in by_code(findings(old, POLICY, later))
    assert "busy_branch_changed" not in by_code(findings(MODEL, strict, NOW))


def test_a_feeders_check_covers_the_islands_next_to_it_but_not_other_feeders():
    s1 = MODEL.node_position("S1")

    found = by_code(findings(MODEL, POLICY, NOW, scope=[s1]))

    assert set(found) == {
        "duplicate_name",
        "empty_transformer",
        "closed_loop",
        "island",
        "missing_node",
        "busy_branch_changed",
    }
    assert found["missing_node"] == [("DX", "N404")]  # the customer on N404 is no feeder's


def test_the_findings_on_a_traces_feeders_travel_with_it_as_warnings():
    on_s1 = trace(MODEL, [Operation(device_id="L1", action="open")])
    on_s2 = trace(MODEL, [Operation(device_id="T3", action="open")])

    s1_codes = [w.code for w in scope_warnings(MODEL, on_s1.scope, POLICY, NOW)]
    s2_codes = [w.code for w in scope_warnings(MODEL, on_s2.scope, POLICY, NOW)]

    assert "island" in s1_codes
    assert "sources_paralleled" not in s1_codes
    assert s2_codes == ["sources_paralleled"]


def test_long_lists_of_elements_are_cut_short_and_counted():
    builder = NetworkBuilder()
    builder.add_node("S1", "source", "")
    for i in range(30):
        builder.add_node(f"I{i:02d}", "pole", "")
    for i in range(29):
        builder.add_device(
            f"D{i:02d}", f"I{i:02d}", f"I{i + 1:02d}", normally_closed=True, kind="line", name=""
        )
    model = builder.build(1)

    (island,) = findings(model, CheckPolicy(listed_elements=5), NOW)

    assert island.elements == ("I00", "I01", "I02", "I03", "I04")
    assert "等共 30 个" in island.message
