"""User-facing texts of the reconciliation service (zh-CN), kept in one place."""

from __future__ import annotations

# --- suggested fixes ----------------------------------------------------------------------------
MOVE_CUSTOMER = (
    "户号 {account} 实际由 {to_name}（{to_node}）供电，模型中挂接在 {from_name}（{from_node}）"
)
DEVICE_STATE = "{device_name}（{device}）现场为常{state}，模型中为常{model_state}"
ADD_TIE = "{from_name}（{from_node}）与 {to_name}（{to_node}）之间有模型中没有的联络（现场合位）"
STATE_WORDS = {True: "闭", False: "开"}
JOIN = "；"
REASON = "停电 {outage} 后电能表停复电事件核对：{summary}"
TIE_NAME = "电能表核对发现的联络 {from_node}-{to_node}"

# --- input errors -------------------------------------------------------------------------------
BATCH_EMPTY = "批量电能表事件为空"
BATCH_TOO_LARGE = "单次最多提交 {limit} 条事件，本次 {count} 条"
BAD_HEADER = "表头应为 {expected}，实际为 {found}"
FIELD_REQUIRED = "{field} 不能为空"
FIELD_TOO_LONG = "{field} 超过 {limit} 个字符"
BAD_EVENT = "event 应为 power_lost 或 power_restored，实际为 {value}"
BAD_CAUSE = "cause 应为 restoration 或 status_check，实际为 {value}"
BAD_TIME = "occurred_at 应为带时区的 ISO 8601 时间，例如 2026-11-28T08:00:05+08:00，实际为 {value}"
BAD_ENCODING = "文件不是 UTF-8 编码"
BAD_JSON = "不是合法的 JSON：{error}"
DUPLICATE_METER = "电能表 {meter} 在第 {first} 行已出现"
BAD_CONTENT_TYPE = "请以 text/csv 或 application/json 提交，实际为 {value}"

# --- state errors -------------------------------------------------------------------------------
OUTAGE_UNKNOWN = "没有停电 {outage} 的记录"
OUTAGE_CANCELLED = "停电 {outage} 已取消，无需核对"
OUTAGE_NOT_TRACED = "停电 {outage} 尚无停电范围，无法核对"
OUTAGE_NOT_OVER = "停电 {outage} 的时段尚未结束（{ends_at} 结束），核对需等到其后"
TOPOLOGY_UNAVAILABLE = "无法从拓扑服务取得电网模型：{error}"
SUGGESTION_UNKNOWN = "没有建议 {suggestion}"
BAD_PERIOD = "from 必须早于 to"
