"""AsyncAPI 3 document generated from the event catalogue.

``python -m shared.asyncapi`` prints it as YAML; ``docs/asyncapi.yaml`` is that output, and a
test fails when the committed file is stale.
"""

from __future__ import annotations

import inspect
from typing import Any

import yaml

from shared.events import EVENT_TYPES, Envelope

# Who writes and who reads each topic. Kept next to the generator so the document, the
# architecture diagram and the code are checked against one list.
PRODUCERS: dict[str, str] = {
    "outage.planned": "topology",
    "outage.traced": "topology",
    "outage.cancelled": "topology",
    "list.approved": "contacts",
    "notice.sent": "dispatch",
    "notice.failed": "dispatch",
    "sms.delivered": "receipts",
    "outage.retraced": "topology",
    "model.changed": "topology",
    "outage.rescheduled": "topology",
    "outage.completed": "topology",
    "escalation.requested": "receipts",
    "notice.acknowledged": "receipts",
    "contact.undeliverable": "receipts",
    "complaint.classified": "receipts",
    "meter.power_lost": "metering",
    "meter.power_restored": "metering",
    "outage.reconciled": "reconciliation",
    "model.fix_suggested": "reconciliation",
}
CONSUMERS: dict[str, list[str]] = {
    "outage.planned": ["topology", "receipts", "reconciliation"],
    "outage.traced": ["contacts", "receipts", "reconciliation"],
    "outage.cancelled": ["contacts", "dispatch", "receipts", "reconciliation"],
    "list.approved": ["dispatch", "receipts", "reconciliation"],
    "notice.sent": ["receipts"],
    "notice.failed": ["receipts"],
    "sms.delivered": ["dispatch"],
    "outage.retraced": ["contacts", "receipts", "reconciliation"],
    "model.changed": ["topology", "reconciliation"],
    "outage.rescheduled": ["contacts", "dispatch", "receipts", "reconciliation"],
    "outage.completed": ["dispatch", "receipts", "reconciliation"],
    "escalation.requested": ["dispatch"],
    "notice.acknowledged": [],
    "contact.undeliverable": ["contacts"],
    "complaint.classified": ["topology", "contacts"],
    "meter.power_lost": ["reconciliation"],
    "meter.power_restored": ["reconciliation"],
    "outage.reconciled": ["receipts"],
    "model.fix_suggested": ["topology"],
}


def _message_name(event_type: str) -> str:
    return EVENT_TYPES[event_type].__name__


def build_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for event_type in sorted(EVENT_TYPES):
        model = EVENT_TYPES[event_type]
        name = model.__name__
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for def_name, definition in schema.pop("$defs", {}).items():
            schemas[def_name] = definition
        schemas[name] = schema
        messages[name] = {
            "name": event_type,
            "title": name,
            "summary": inspect.cleandoc(model.__doc__ or ""),
            "contentType": "application/cloudevents+json",
            "headers": {"$ref": "#/components/schemas/CloudEventAttributes"},
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {"kafka": {"key": {"type": "string", "description": "outage id"}}},
        }
        channel_id = event_type.replace(".", "_")
        channels[channel_id] = {
            "address": event_type,
            "description": (
                f"Written by {PRODUCERS.get(event_type, '?')}; read by "
                f"{', '.join(CONSUMERS.get(event_type, [])) or 'nobody yet'}. Events that cannot "
                f"be handled go to {event_type}.dlq."
            ),
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        producer = PRODUCERS.get(event_type)
        if producer:
            operations[f"{producer}_sends_{channel_id}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"{producer} publishes {event_type} through its outbox.",
            }
        for consumer in CONSUMERS.get(event_type, []):
            operations[f"{consumer}_receives_{channel_id}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"{consumer} consumes {event_type} (inbox-deduplicated).",
            }
    envelope = Envelope.model_json_schema()
    envelope["properties"].pop("data", None)
    envelope["required"] = [r for r in envelope.get("required", []) if r != "data"]
    schemas["CloudEventAttributes"] = envelope
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Outage notice events",
            "version": "0.1.0",
            "description": (
                "Events exchanged by the topology, contacts, dispatch and receipts services. "
                "Each Kafka record's value is a CloudEvents 1.0 JSON envelope whose `data` is "
                "the payload below; the record key is the envelope's `subject` (the outage "
                "id), so one outage's events stay in order. Delivery is at least once: "
                "consumers deduplicate by the envelope `id`."
            ),
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render_yaml() -> str:
    rendered: str = yaml.safe_dump(build_document(), sort_keys=False, allow_unicode=True, width=100)
    return rendered


if __name__ == "__main__":
    print(render_yaml(), end="")  # noqa: T201
