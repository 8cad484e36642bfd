"""Carrier status vocabularies (SMPP 3.4 / CMPP 2.0–3.0), normalised to :class:`ReceiptStatus`.

SMPP ``deliver_sm`` receipts and CMPP status reports share seven-letter ``stat`` words; CMPP
gateways also put their own error classes in ``stat`` as ``XX:nnnn``. The meaning of the digits
differs between gateways, so the status is decided by the word or the class alone, and the raw
``stat`` and ``err`` are kept for the operator. Anything not listed here becomes ``unknown``,
which calls for a reconciliation with the carrier, never an automatic resend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.receipts.domain.status import ReceiptStatus


@dataclass(frozen=True)
class CarrierOutcome:
    """A carrier's report in our terms, with a reason an operator can read.

    ``number_problem`` marks failures that point at the number itself (unassigned, suspended,
    out of use) rather than at the carrier: those are the contact registry's to fix.
    """

    status: ReceiptStatus
    reason_zh: str
    reason_en: str
    number_problem: bool = False


_WORDS: dict[str, CarrierOutcome] = {
    "DELIVRD": CarrierOutcome(
        ReceiptStatus.DELIVERED, "已送达用户手机", "delivered to the handset"
    ),
    "UNDELIV": CarrierOutcome(
        ReceiptStatus.FAILED,
        "无法送达（空号、停机、关机等），请核实联系号码",
        "undeliverable (number unassigned, suspended or switched off); check the contact number",
        number_problem=True,
    ),
    "REJECTD": CarrierOutcome(ReceiptStatus.FAILED, "被运营商拒收", "rejected by the carrier"),
    "DELETED": CarrierOutcome(
        ReceiptStatus.FAILED, "送达前被运营商删除", "deleted by the carrier before delivery"
    ),
    "SKIPPED": CarrierOutcome(
        ReceiptStatus.FAILED, "被运营商跳过，未下发", "skipped by the carrier, never sent"
    ),
    "EXPIRED": CarrierOutcome(
        ReceiptStatus.EXPIRED,
        "有效期内未能送达（手机可能关机或不在服务区）",
        "not delivered within the validity period (handset off or out of coverage)",
    ),
    "ACCEPTD": CarrierOutcome(
        ReceiptStatus.ACCEPTED,
        "运营商已接收，尚未送达",
        "accepted by the carrier, not yet delivered",
    ),
    "ENROUTE": CarrierOutcome(
        ReceiptStatus.ACCEPTED, "正在投递，尚未送达", "en route to the handset, not yet delivered"
    ),
    "SCHEDLD": CarrierOutcome(
        ReceiptStatus.ACCEPTED,
        "已排队待发，尚未送达",
        "scheduled by the carrier, not yet delivered",
    ),
    "UNKNOWN": CarrierOutcome(
        ReceiptStatus.UNKNOWN,
        "运营商不掌握送达结果，需向运营商核查",
        "the carrier does not know the outcome; reconcile with the carrier",
    ),
}

# CMPP gateway error classes: MK = 被拒/无法送达 (like UNDELIV), MI = 超过有效期 (like
# EXPIRED), MN = 网关拒绝 (like REJECTD).
_CODE_CLASSES: dict[str, tuple[ReceiptStatus, str, str]] = {
    "MK": (
        ReceiptStatus.FAILED,
        "运营商网络无法送达（错误码 {code}），请核实联系号码",
        "undeliverable in the carrier network (code {code}); check the contact number",
    ),
    "MI": (
        ReceiptStatus.EXPIRED,
        "有效期内未能送达（错误码 {code}），手机可能关机或不在服务区",
        "not delivered within the validity period (code {code}); handset off or out of coverage",
    ),
    "MN": (
        ReceiptStatus.FAILED,
        "被运营商网关拒绝（错误码 {code}）",
        "rejected by the carrier gateway (code {code})",
    ),
}

_CMPP_CODE = re.compile(r"([A-Z]{2}):[0-9A-Z]+")


def normalise_carrier_status(stat: str) -> CarrierOutcome:
    """Map a carrier's ``stat`` (an SMPP/CMPP word or a CMPP ``XX:nnnn`` code) to our terms."""
    word = stat.strip().upper()
    known = _WORDS.get(word)
    if known is not None:
        return known
    code = _CMPP_CODE.fullmatch(word)
    if code is not None and code.group(1) in _CODE_CLASSES:
        status, reason_zh, reason_en = _CODE_CLASSES[code.group(1)]
        return CarrierOutcome(
            status,
            reason_zh.format(code=word),
            reason_en.format(code=word),
            number_problem=code.group(1) == "MK",
        )
    return CarrierOutcome(
        ReceiptStatus.UNKNOWN,
        f"无法识别的运营商状态“{stat}”，需向运营商核查",
        f"unrecognised carrier status {stat!r}; reconcile with the carrier",
    )
