"""Tests of the synthetic distribution network generator (tools/network_gen.py)."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import networkx as nx
import phonenumbers
import pytest

from tools.network_gen import SAMPLE_DISTRICT, GenerationStats, NetworkSpec, generate, main

FILES = ("nodes.csv", "devices.csv", "customers.csv", "contacts.csv")
MOBILE_LOOKING = re.compile(r"^(\+86[ -]?)?1\d\d[ -]?\d{4}[ -]?\d{4}$")


@dataclass
class Bundle:
    stats: GenerationStats
    nodes: list[dict[str, str]]
    devices: list[dict[str, str]]
    customers: list[dict[str, str]]
    contacts: list[dict[str, str]]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def build(out: Path, spec: NetworkSpec) -> Bundle:
    stats = generate(out, spec)
    return Bundle(stats, *(read_rows(out / name) for name in FILES))


def components(bundle: Bundle) -> dict[str, int]:
    """Assert the closed-device network is a forest of one tree per source; map node -> tree."""
    graph: nx.MultiGraph[str] = nx.MultiGraph()
    graph.add_nodes_from(node["node_id"] for node in bundle.nodes)
    graph.add_edges_from(
        (d["from_node"], d["to_node"]) for d in bundle.devices if d["normal_state"] == "closed"
    )
    sources = {node["node_id"] for node in bundle.nodes if node["kind"] == "source"}
    tree_of: dict[str, int] = {}
    for index, members in enumerate(nx.connected_components(graph)):
        assert len(members & sources) == 1, "every island needs exactly one source"
        # A multigraph counts parallel devices and self-loops, so this also rules those out.
        assert graph.subgraph(members).number_of_edges() == len(members) - 1, "closed loop"
        tree_of.update(dict.fromkeys(members, index))
    return tree_of


def e164(phone: str) -> str | None:
    try:
        number = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sample")


@pytest.fixture(scope="module")
def sample(sample_dir: Path) -> Bundle:
    return build(sample_dir, SAMPLE_DISTRICT)


def test_same_spec_gives_byte_identical_files(
    tmp_path: Path, sample_dir: Path, sample: Bundle
) -> None:
    generate(tmp_path / "again", SAMPLE_DISTRICT)
    for name in FILES:
        assert (tmp_path / "again" / name).read_bytes() == (sample_dir / name).read_bytes(), name

    generate(tmp_path / "other", replace(SAMPLE_DISTRICT, seed=SAMPLE_DISTRICT.seed + 1))
    other = (tmp_path / "other" / "customers.csv").read_bytes()
    assert other != (sample_dir / "customers.csv").read_bytes()


def test_without_contacts_the_network_is_unchanged(tmp_path: Path, sample_dir: Path) -> None:
    generate(tmp_path, replace(SAMPLE_DISTRICT, with_contacts=False))
    for name in ("nodes.csv", "devices.csv", "customers.csv"):
        assert (tmp_path / name).read_bytes() == (sample_dir / name).read_bytes(), name
    assert (tmp_path / "contacts.csv").read_bytes() == b"account_id,role,name,phone\n"


def test_headers_are_exact(sample_dir: Path, sample: Bundle) -> None:
    expected = {
        "nodes.csv": "node_id,kind,name",
        "devices.csv": "device_id,kind,from_node,to_node,normal_state,name",
        "customers.csv": "account_id,name,node_id,voltage_kv,category",
        "contacts.csv": "account_id,role,name,phone",
    }
    for name, header in expected.items():
        with (sample_dir / name).open(encoding="utf-8", newline="") as stream:
            assert stream.readline() == header + "\n"
    assert not (sample_dir / "nodes.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_ids_follow_the_scheme_and_are_unique(sample: Bundle) -> None:
    for rows, column, pattern in (
        (sample.nodes, "node_id", r"N\d{8}"),
        (sample.devices, "device_id", r"D\d{8}"),
        (sample.customers, "account_id", r"A\d{8}"),
    ):
        ids = [row[column] for row in rows]
        assert len(set(ids)) == len(ids)
        assert all(re.fullmatch(pattern, i) for i in ids)


def test_every_reference_resolves(sample: Bundle) -> None:
    kind_of = {node["node_id"]: node["kind"] for node in sample.nodes}
    for device in sample.devices:
        assert device["from_node"] in kind_of
        assert device["to_node"] in kind_of
        assert device["from_node"] != device["to_node"]
    accounts = {customer["account_id"] for customer in sample.customers}
    assert all(contact["account_id"] in accounts for contact in sample.contacts)
    for customer in sample.customers:
        assert customer["node_id"] in kind_of


def test_rows_use_the_interchange_vocabulary(sample: Bundle) -> None:
    kind_of = {node["node_id"]: node["kind"] for node in sample.nodes}
    assert set(kind_of.values()) == {
        "source",
        "bus",
        "pole",
        "ring_main_unit",
        "branch_box",
        "transformer_lv",
        "hv_customer_point",
    }
    assert {d["kind"] for d in sample.devices} == {
        "line",
        "switch",
        "breaker",
        "fuse",
        "disconnector",
        "transformer",
    }
    assert {d["normal_state"] for d in sample.devices} == {"closed", "open"}
    for customer in sample.customers:
        node_kind = kind_of[customer["node_id"]]
        if customer["voltage_kv"] == "10":
            assert node_kind == "hv_customer_point"
            assert customer["category"] in {"industrial", "commercial", "important"}
        else:
            assert node_kind == "transformer_lv"
            expected = "0.22" if customer["category"] == "residential" else "0.4"
            assert customer["voltage_kv"] == expected
            assert customer["category"] in {"residential", "commercial", "industrial"}
    assert {c["role"] for c in sample.contacts} == {"electrical", "legal", "billing", "other"}


def test_normal_state_is_radial(sample: Bundle) -> None:
    tree_of = components(sample)
    assert len(set(tree_of.values())) == sample.stats.feeders


def test_every_feeder_has_open_ties_to_other_feeders(sample: Bundle) -> None:
    tree_of = components(sample)
    ties = [d for d in sample.devices if d["normal_state"] == "open"]
    assert len(ties) == sample.stats.ties > 0
    tied: set[int] = set()
    for tie in ties:
        assert tie["kind"] == "switch"
        ends = tree_of[tie["from_node"]], tree_of[tie["to_node"]]
        assert ends[0] != ends[1], tie
        tied.update(ends)
    assert tied == set(tree_of.values())


def test_sample_district_has_the_promised_shape(sample: Bundle) -> None:
    stats = sample.stats
    assert stats.substations == 3
    assert 10 <= stats.feeders <= 15
    assert 250 <= stats.transformers <= 350
    assert stats.ring_main_units > 0
    assert 20 <= stats.hv_customers <= 40
    assert stats.customers == 5000
    assert stats.nodes == len(sample.nodes)
    assert stats.devices == len(sample.devices)
    assert stats.contacts == len(sample.contacts)
    assert stats.transformers == sum(d["kind"] == "transformer" for d in sample.devices)
    sources = [n["name"] for n in sample.nodes if n["kind"] == "source"]
    assert len({name.split(" ")[0] for name in sources}) == 3
    assert all(re.fullmatch(r"\w+变 10kV \w+\d+线", name) for name in sources)


@pytest.mark.parametrize(
    "spec",
    [
        NetworkSpec(customers=1),
        NetworkSpec(customers=7, substations=2),
        NetworkSpec(customers=900, substations=2, feeders=5, lv_per_transformer=(5, 12)),
        NetworkSpec(customers=12_000, seed=7),
    ],
    ids=lambda spec: f"{spec.customers}-customers",
)
def test_any_size_is_radial_and_on_target(tmp_path: Path, spec: NetworkSpec) -> None:
    bundle = build(tmp_path, spec)
    assert abs(len(bundle.customers) - spec.customers) <= 0.05 * spec.customers
    components(bundle)
    low, high = spec.lv_per_transformer
    per_area: dict[str, int] = defaultdict(int)
    for customer in bundle.customers:
        if customer["voltage_kv"] != "10":
            per_area[customer["node_id"]] += 1
    if spec.customers > 100:
        assert all(low <= count <= high for count in per_area.values())


def test_contacts_include_the_messy_cases(sample: Bundle) -> None:
    phones_by_account: dict[str, list[str]] = defaultdict(list)
    electrical_accounts_by_number: dict[str, set[str]] = defaultdict(set)
    landlines = invalid = 0
    for contact in sample.contacts:
        phone = contact["phone"]
        phones_by_account[contact["account_id"]].append(phone)
        number = e164(phone)
        if number is None:
            invalid += 1
            continue
        if MOBILE_LOOKING.match(phone) is None:
            landlines += 1
        if contact["role"] == "electrical":
            electrical_accounts_by_number[number].add(contact["account_id"])
    assert invalid > 0
    assert landlines > 0
    assert max(len(accounts) for accounts in electrical_accounts_by_number.values()) >= 3
    without_contact = [c for c in sample.customers if c["account_id"] not in phones_by_account]
    assert without_contact
    # Everything written like a mobile is a valid mobile: the bad numbers are the deliberate ones.
    for contact in sample.contacts:
        if MOBILE_LOOKING.match(contact["phone"]):
            assert e164(contact["phone"]) is not None, contact


def test_businesses_with_contacts_have_legal_and_billing(sample: Bundle) -> None:
    roles: dict[str, set[str]] = defaultdict(set)
    for contact in sample.contacts:
        roles[contact["account_id"]].add(contact["role"])
    for customer in sample.customers:
        if customer["category"] != "residential" and customer["account_id"] in roles:
            assert {"electrical", "legal", "billing"} <= roles[customer["account_id"]]


def test_cli_writes_the_bundle_and_prints_stats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path), "--customers", "300", "--seed", "3", "--no-contacts"]) == 0
    printed = capsys.readouterr().out
    assert "customers: 300" in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: NetworkSpec(customers=0), "customers"),
        (lambda: NetworkSpec(customers=100, lv_per_transformer=(10, 15)), "lv_per_transformer"),
        (lambda: NetworkSpec(customers=100, substations=3, feeders=2), "at least one feeder"),
    ],
)
def test_spec_rejects_impossible_sizes(make: Callable[[], NetworkSpec], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()
