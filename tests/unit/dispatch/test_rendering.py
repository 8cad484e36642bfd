"""Notice texts: golden renderings of the built-in zh-CN templates, times in local time."""

from datetime import UTC, datetime
from pathlib import Path

import jinja2
import pytest

from services.dispatch.app import BUILT_IN_TEMPLATES
from services.dispatch.domain.messages import NoticeKind
from services.dispatch.domain.rendering import (
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
        "涉及户名：杭州明辉机械有限公司、张三、李四等5户。如有疑问请致电95598。"
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
    with pytest.raises(TemplateMissing, match=r"voice/notice\.txt\.j2"):
        renderer.check("voice")
