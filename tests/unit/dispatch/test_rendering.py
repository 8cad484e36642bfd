"""Notice texts: golden renderings of the built-in zh-CN templates, times in local time."""

from datetime import UTC, datetime
from pathlib import Path

import jinja2
import pytest

from services.dispatch.app import BUILT_IN_TEMPLATES
from services.dispatch.domain.messages import NoticeKind
from services.dispatch.domain.rendering import (
    Followup,
    NoticeRenderer,
    TemplateMissing,
    Wording,
    format_period,
    summarise_names,
)
from shared.events import OutageDetails

WORDING = Wording(hotline="95598", timezone="Asia/Shanghai", max_names=3)
# 08:00–17:00 in Shanghai.
DETAILS = OutageDetails(
    kind="planned",
    starts_at=datetime(2026, 3, 5, 0, 0, tzinfo=UTC),
    ends_at=datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
    work="10kV东12线线路检修",
    area="东12线沿线",
    planned_by="planner-1",
)
FIVE_NAMES = ["杭州明辉机械有限公司", "张三", "李四", "王五", "赵六"]


@pytest.fixture
def renderer() -> NoticeRenderer:
    return NoticeRenderer([BUILT_IN_TEMPLATES], WORDING)


def test_notice_names_the_work_the_local_period_the_area_and_the_accounts(renderer):
    text = renderer.render("sms", NoticeKind.NOTICE, DETAILS, FIVE_NAMES)
    assert text == (
        "尊敬的客户：因10kV东12线线路检修，计划于3月5日08:00至17:00对东12线沿线停电，"
        "涉及户名：杭州明辉机械有限公司、张三、李四等5户。收到请回复1。如有疑问请致电95598。"
    )


def test_cancellation_says_the_planned_outage_is_off(renderer):
    text = renderer.render("sms", NoticeKind.CANCELLATION, DETAILS, ["张三"])
    assert text == (
        "尊敬的客户：原定于3月5日08:00至17:00对东12线沿线的停电计划已取消，届时将正常供电，"
        "涉及户名：张三。如有疑问请致电95598。"
    )


def test_notice_without_an_area_leaves_the_area_phrase_out(renderer):
    details = DETAILS.model_copy(update={"area": ""})
    text = renderer.render("sms", NoticeKind.NOTICE, details, ["张三"])
    assert "计划于3月5日08:00至17:00停电，" in text


def test_period_over_midnight_gives_the_end_date_too():
    start, end = format_period(
        datetime(2026, 3, 5, 14, 0, tzinfo=UTC),
        datetime(2026, 3, 5, 22, 30, tzinfo=UTC),
        "Asia/Shanghai",
    )
    assert (start, end) == ("3月5日22:00", "3月6日06:30")


def test_names_beyond_the_limit_become_a_count_of_all_accounts():
    assert summarise_names(["甲", "乙", "丙"], 3) == "甲、乙、丙"
    assert summarise_names(["甲", "乙", "丙", "丁"], 3) == "甲、乙、丙等4户"
    assert summarise_names(["甲", "甲", "乙", ""], 1) == "甲等2户"


def test_a_template_folder_overrides_the_built_in_wording(tmp_path: Path) -> None:
    (tmp_path / "sms").mkdir()
    (tmp_path / "sms" / "notice.txt.j2").write_text("停电：{{ starts_at }}，{{ account_names }}\n")
    renderer = NoticeRenderer([tmp_path, BUILT_IN_TEMPLATES], WORDING)
    assert renderer.render("sms", NoticeKind.NOTICE, DETAILS, ["张三"]) == "停电：3月5日08:00，张三"
    assert "已取消" in renderer.render("sms", NoticeKind.CANCELLATION, DETAILS, ["张三"])


def test_an_undefined_variable_stops_the_check_instead_of_sending_a_blank(
    tmp_path: Path,
) -> None:
    (tmp_path / "sms").mkdir()
    (tmp_path / "sms" / "notice.txt.j2").write_text("{{ no_such_thing }}")
    renderer = NoticeRenderer([tmp_path, BUILT_IN_TEMPLATES], WORDING)
    with pytest.raises(jinja2.UndefinedError):
        renderer.check("sms")


def test_a_channel_without_templates_is_reported_missing(renderer):
    with pytest.raises(
        TemplateMissing, match=r"fax/notice\.planned\.txt\.j2 or fax/notice\.txt\.j2"
    ):
        renderer.check("fax")


@pytest.mark.parametrize(
    "channel", ["sms", "voice", "wechat", "app_push", "door_slip", "posted_notice", "newspaper"]
)
def test_every_built_in_channel_words_every_kind_it_carries(renderer, channel):
    renderer.check(channel)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("emergency", "需紧急停电抢修，预计3月5日08:00至17:00"),
        ("relocation", "（迁改工程），计划于3月5日08:00至17:00"),
        ("orderly_use", "根据有序用电方案，3月5日08:00至17:00东12线沿线实施有序用电"),
        ("load_shedding", "将限负荷拉闸停电"),
        ("temporary", "计划于3月5日08:00至17:00对东12线沿线停电"),
    ],
)
def test_each_kind_of_outage_has_its_own_wording(renderer, kind, expected):
    details = DETAILS.model_copy(update={"kind": kind})
    assert expected in renderer.render("sms", NoticeKind.NOTICE, details, ["张三"])


def test_a_new_time_names_the_old_and_the_new_period_and_why(renderer):
    moved = DETAILS.model_copy(
        update={
            "starts_at": datetime(2026, 3, 6, 0, 0, tzinfo=UTC),
            "ends_at": datetime(2026, 3, 6, 9, 0, tzinfo=UTC),
        }
    )
    followup = Followup(
        reason="雷雨天气",
        previous_starts_at=DETAILS.starts_at,
        previous_ends_at=DETAILS.ends_at,
    )
    text = renderer.render("sms", NoticeKind.RESCHEDULE, moved, ["张三"], followup=followup)
    assert text == (
        "尊敬的客户：原定于3月5日08:00至17:00对东12线沿线的停电时间变更为3月6日08:00至17:00"
        "（雷雨天气），涉及户名：张三。收到请回复1。如有疑问请致电95598。"
    )


def test_reminder_and_restoration(renderer):
    reminder = renderer.render("sms", NoticeKind.REMINDER, DETAILS, ["张三"])
    assert reminder.startswith("温馨提醒：因10kV东12线线路检修，3月5日08:00至17:00东12线沿线将停电")
    done = Followup(completed_at=datetime(2026, 3, 5, 7, 30, tzinfo=UTC))
    restoration = renderer.render("sms", NoticeKind.RESTORATION, DETAILS, ["张三"], followup=done)
    assert "计划停电工作已于3月5日15:30结束，已恢复供电" in restoration


def test_area_contacts_are_asked_to_post_the_notice_and_confirm(renderer):
    text = renderer.render(
        "sms", NoticeKind.NOTICE, DETAILS, ["甲", "乙"], contact_name="幸福里物业", audience="area"
    )
    assert text.startswith("幸福里物业：因10kV东12线线路检修")
    assert "涉及2户" in text
    assert "请协助在公告栏张贴停电公告" in text
    assert "张贴后回复1确认" in text


def test_a_call_reads_the_notice_and_asks_for_key_1(renderer):
    text = renderer.render("voice", NoticeKind.NOTICE, DETAILS, ["张三"])
    assert "确认收到请按1" in text
    assert "3月5日08:00至17:00" in text
