"""Events the services exchange, defined once.

Every event is a frozen pydantic model registered under its type, which is also its Kafka
topic. On the wire each travels inside a CloudEvents-style :class:`Envelope` (JSON, structured
mode) whose ``subject`` is the outage id, also used as the Kafka key so that one outage's
events keep their order.
"""

from shared.events.catalog import (
    AccountChange,
    AffectedAccount,
    ComplaintClassified,
    ContactUndeliverable,
    EscalationRequested,
    FeederScope,
    ListApproved,
    ModelChange,
    ModelChanged,
    NoticeAcknowledged,
    NoticeFailed,
    NoticeSent,
    Operation,
    OutageCancelled,
    OutageCompleted,
    OutageDetails,
    OutagePlanned,
    OutageRescheduled,
    OutageRetraced,
    OutageTraced,
    Recipient,
    SmsDelivered,
    TraceWarning,
    TransformerScope,
)
from shared.events.envelope import (
    EVENT_TYPES,
    Envelope,
    Event,
    PoisonEvent,
    decode,
    encode,
    register,
)

__all__ = [
    "EVENT_TYPES",
    "AccountChange",
    "AffectedAccount",
    "ComplaintClassified",
    "ContactUndeliverable",
    "Envelope",
    "EscalationRequested",
    "Event",
    "FeederScope",
    "ListApproved",
    "ModelChange",
    "ModelChanged",
    "NoticeAcknowledged",
    "NoticeFailed",
    "NoticeSent",
    "Operation",
    "OutageCancelled",
    "OutageCompleted",
    "OutageDetails",
    "OutagePlanned",
    "OutageRescheduled",
    "OutageRetraced",
    "OutageTraced",
    "PoisonEvent",
    "Recipient",
    "SmsDelivered",
    "TraceWarning",
    "TransformerScope",
    "decode",
    "encode",
    "register",
]
