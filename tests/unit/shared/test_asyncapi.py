from pathlib import Path

from shared.asyncapi import CONSUMERS, PRODUCERS, build_document, render_yaml
from shared.events import EVENT_TYPES

DOC = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.yaml"


def test_committed_asyncapi_document_matches_the_event_catalogue():
    assert DOC.read_text(encoding="utf-8") == render_yaml(), (
        "docs/asyncapi.yaml is stale: run `make asyncapi`"
    )


def test_every_event_has_a_channel_a_producer_and_a_payload_schema():
    document = build_document()
    assert document["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == set(EVENT_TYPES)
    assert set(PRODUCERS) == set(EVENT_TYPES)
    assert set(CONSUMERS) == set(EVENT_TYPES)
    for model in EVENT_TYPES.values():
        assert model.__name__ in document["components"]["schemas"]
