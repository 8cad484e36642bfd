"""Which customer replies acknowledge a notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.receipts.domain.replies import Reply, ReplyIntent, classify_reply, normalise


@pytest.mark.parametrize(
    "text",
    [
        "1",
        "１",
        " 1 ",
        "收到",
        "收到了",
        "已收到",
        "确认",
        "好的",
        "好的，谢谢",
        "OK!",
        "ok",
        "知道了",
        "明白",
        "收到，谢谢师傅",
        "Thank you",
        "谢谢",
        "嗯嗯",
        "1。",
    ],
)
def test_replies_made_of_acknowledging_words_acknowledge(text):
    assert classify_reply(text) is ReplyIntent.ACKNOWLEDGE


@pytest.mark.parametrize(
    "text",
    [
        "",
        "了",
        "2",
        "12",
        "收到，明天几点停？",
        "不是我家",
        "不知道",
        "收到不了",
        "为什么又停电",
        "退订",
        "TD",
        "👍",
        "你们",
        "打错了",
    ],
)
def test_questions_objections_and_unknown_words_are_kept_for_operators(text):
    assert classify_reply(text) is ReplyIntent.OTHER


def test_width_case_spaces_and_punctuation_are_set_aside():
    assert normalise(" ＯＫ！ 收 到。") == "ok收到"


def test_the_same_reply_pushed_again_has_the_same_key_whatever_its_offset():
    at = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    reply = Reply("+8613800138001", "收到", at)
    again = Reply("+8613800138001", "收到", at.astimezone(timezone(timedelta(hours=8))))

    assert reply.key == again.key
    assert Reply("+8613800138001", "1", at).key != reply.key
    assert Reply("+8613800138001", "收到", at + timedelta(seconds=1)).key != reply.key
