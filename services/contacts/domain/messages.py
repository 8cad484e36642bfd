"""Every zh-CN sentence the contacts service shows to people, kept together for review.

Operators read these in import reports, list warnings and error bodies; the placeholders are
filled with ``str.format`` by the code that raises or records them.
"""

from __future__ import annotations

from typing import Final

# Phone numbers.
PHONE_EMPTY: Final = "号码为空"
PHONE_NOT_A_NUMBER: Final = "不是电话号码"
PHONE_NOT_ASSIGNED: Final = "号码位数不对或号段不存在"
PHONE_NOT_MAINLAND: Final = "不是中国大陆号码，短信平台和外呼都无法使用"
PHONE_NOT_REACHABLE: Final = "该类号码不能用于通知（寻呼、声讯等）"

# Registry import.
IMPORT_REJECTED: Final = (
    "导入被拒绝：发现 {count} 处错误，未导入任何数据。请按 errors 修正后重新导入。"
)
IMPORT_NOTHING: Final = "请至少上传 customers（用户）或 contacts（联系人）文件之一"
UPLOAD_NOT_MULTIPART: Final = "请以 multipart/form-data 上传文件"
UPLOAD_TOO_LARGE: Final = "上传内容超过 {limit_mb} MB 上限"
UPLOAD_UNKNOWN_PART: Final = "不认识的上传项 {name}，只接受 customers 和 contacts"
UPLOAD_REPEATED_PART: Final = "上传项 {name} 出现了多次"
FILE_NOT_TEXT: Final = "文件不是 UTF-8 或 GB18030 编码的文本"
FILE_READ_AS_GB18030: Final = "文件不是 UTF-8 编码，已按 GB18030 读取，请核对中文是否正确"
FILE_EMPTY: Final = "文件为空，缺少表头"
COLUMN_MISSING: Final = "表头缺少列 {column}"
COLUMN_REPEATED: Final = "表头中列 {column} 出现了多次"
COLUMNS_IGNORED: Final = "这些列不会导入：{columns}"
ROW_WIDTH: Final = "本行有 {found} 列，表头有 {expected} 列"
CSV_MALFORMED: Final = "CSV 格式错误，从本行起无法读取：{error}"
VALUE_REQUIRED: Final = "{column} 不能为空"
VALUE_TOO_LONG: Final = "{column} 超过 {limit} 个字符"
VALUE_NOT_ALLOWED: Final = "{column} 的值“{value}”无效，应为 {allowed} 之一"
VOLTAGE_NOT_NUMBER: Final = "电压等级“{value}”不是有效的非负数字（单位 kV）"
ACCOUNT_REPEATED: Final = "用户编号 {account_id} 与第 {first_row} 行重复"
ACCOUNT_UNKNOWN: Final = "用户编号 {account_id} 既不在本次导入的用户文件中，也不在登记库中"
PHONE_REJECTED: Final = "号码“{phone}”无效：{reason}"
PHONE_FLAGGED: Final = (
    "号码“{phone}”无效（{reason}），已登记为无效号码，不会用于通知，请尽快核实更正"
)
CONTACT_REPEATED: Final = "与第 {first_row} 行是同一联系人（同一用户、角色和号码），本行已忽略"
CONTACTS_KEPT: Final = (
    "{count} 个已登记的联系人未出现在本次文件中，已保留；如已失效请在联系人维护中处理"
)

# Notification lists.
NO_VALID_MOBILE_CALL: Final = "用户 {account}：没有可用的手机号码，需电话通知（有固定电话）"
NO_VALID_MOBILE_VISIT: Final = "用户 {account}：没有可用的手机号码和电话，需上门送达停电通知单"
IMPORTANT_CUSTOMER: Final = (
    "重要用户 {account_id}（{name}，{category}，{voltage_kv} kV）：必须电话通知并确认"
)
UNKNOWN_ACCOUNT: Final = "用户 {account_id} 在拓扑追踪结果中，但不在联系人登记库中，无法通知"
NODE_MISMATCH: Final = (
    "用户 {account}：登记库中的接入点为 {registry_node}，"
    "拓扑追踪为 {traced_node}，请核实图实是否一致"
)
ACCOUNT_NOT_FOUND: Final = "用户 {account_id} 不在登记库中"
LIST_NOT_FOUND: Final = "停电 {outage_id} 还没有通知名单"
LIST_VERSION_NOT_FOUND: Final = "停电 {outage_id} 没有第 {version} 版通知名单"
FOUR_EYES: Final = "四眼原则：停电计划由 {planned_by} 编制，不能由本人审批其通知名单"
LIST_NOT_DRAFT: Final = "停电 {outage_id} 第 {version} 版通知名单{status}，不能再{action}"
LIST_VERSION_CHANGED: Final = (
    "通知名单已更新为第 {current} 版，您审阅的是第 {expected} 版，请重新审阅后再{action}"
)
LIST_DECIDED_MEANWHILE: Final = "停电 {outage_id} 的通知名单刚被他人处理，请刷新后重试"
ACTION_APPROVE: Final = "审批"
ACTION_REJECT: Final = "退回"

CATEGORY_NAMES: Final = {
    "residential": "居民",
    "commercial": "商业",
    "industrial": "工业",
    "important": "重要用户",
}
LIST_STATUS_NAMES: Final = {
    "draft": "待审批",
    "approved": "已审批",
    "rejected": "已退回",
    "cancelled": "已随停电取消",
    "superseded": "已被新版本取代",
}
