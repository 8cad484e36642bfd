"""Customer replies to a notice SMS (uplink messages) and whether they acknowledge it.

Notices ask customers to reply 1 or 收到 once they have read them. People answer in many
ways (１, 收到了, 好的，谢谢, OK), so a reply acknowledges the notice when, once width, case,
spaces and punctuation are set aside, it is made only of acknowledging words and courtesies.
Anything else (a question, a complaint, 不是我家) is not an acknowledgement: it is kept and
shown to the operators, who may have to act on it.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache


class ReplyIntent(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    OTHER = "other"


ACKNOWLEDGING_WORDS = frozenset(
    {
        "1",
        "y",
        "yes",
        "ok",
        "okay",
        "收到",
        "已收到",
        "收悉",
        "确认",
        "已确认",
        "确定",
        "知道",
        "已知",
        "知悉",
        "已知悉",
        "明白",
        "了解",
        "已阅",
        "好",
        "好的",
        "行",
        "嗯",
        "是",
        "谢谢",
        "多谢",
        "感谢",
        "thanks",
        "thank",
    }
)
# Words that add nothing either way; a reply made only of them is not an acknowledgement.
COURTESIES = frozenset({"了", "啦", "哈", "呀", "啊", "的", "您", "你", "们", "师傅", "you", "the"})
_LONGEST = max(len(word) for word in ACKNOWLEDGING_WORDS | COURTESIES)


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, without spaces, punctuation or symbols (emoji)."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in folded if unicodedata.category(c)[0] not in "PSZC")


def classify_reply(text: str) -> ReplyIntent:
    """Whether ``text`` acknowledges the notice it answers."""
    return ReplyIntent.ACKNOWLEDGE if _acknowledges(normalise(text)) else ReplyIntent.OTHER


@cache
def _acknowledges(text: str) -> bool:
    """``text`` splits into known words, at least one of them acknowledging."""
    if not text:
        return False
    # Positions a split can reach, each with whether an acknowledging word led there.
    reachable: dict[int, bool] = {0: False}
    for start in range(len(text)):
        if start not in reachable:
            continue
        for end in range(start + 1, min(len(text), start + _LONGEST) + 1):
            word = text[start:end]
            if word in ACKNOWLEDGING_WORDS or word in COURTESIES:
                used = reachable[start] or word in ACKNOWLEDGING_WORDS
                reachable[end] = reachable.get(end, False) or used
    return reachable.get(len(text), False)


@dataclass(frozen=True)
class Reply:
    """One uplink message as the SMS platform pushes it; ``received_at`` is aware."""

    phone: str
    text: str
    received_at: datetime

    @property
    def intent(self) -> ReplyIntent:
        return classify_reply(self.text)

    @property
    def key(self) -> str:
        """Identity of the reply, so that a platform pushing it again stores it once."""
        identity = [self.phone, self.text, self.received_at.astimezone(UTC).isoformat()]
        return hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()
