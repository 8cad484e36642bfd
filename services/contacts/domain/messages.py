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
UPLOAD_NOT_A_FILE: Final = "上传项 {name} 应为文件"
UPLOAD_MALFORMED: Final = "上传内容无法解析：{reason}"
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
RETIRED_CONTACTS_IN_FILE: Final = (
    "{count} 个联系人已注销（如过户），文件中再次出现也不会恢复；确需恢复请在联系人维护中重新登记"
)
CALL_WINDOW_FORMAT: Final = "通话时段“{value}”格式不对，应如 08:00-20:00"
CALL_WINDOW_ORDER: Final = "通话时段的开始时间必须早于结束时间"
VERIFIED_AT_FORMAT: Final = "核实时间“{value}”不是有效日期或时间（如 2025-06-01）"
VERIFIED_AT_FUTURE: Final = "核实时间“{value}”晚于现在"
CONTACTS_KEPT: Final = (
    "{count} 个已登记的联系人未出现在本次文件中，已保留；如已失效请在联系人维护中处理"
)

# Registry edits.
CONTACT_NOT_FOUND: Final = "联系人 {contact_id} 不存在"
CONTACT_RETIRED: Final = "联系人 {contact_id} 已注销，不能再修改"
CONTACT_EXISTS: Final = "该用户已有同一角色、同一号码的联系人 {contact_id}"
STATUS_NEEDS_NUMBER: Final = "号码无效的联系人只能是 invalid 状态"
AREA_NOT_FOUND: Final = "区域 {area_id} 不存在"
AREA_NODES_REQUIRED: Final = "区域至少要包含一个台区节点"
SUBSCRIPTION_EXISTS: Final = "区域 {area_id} 已有该订阅"
TRANSFER_RETIRED_REASON: Final = "过户：{reason}"
TRANSFER_RELEASED: Final = "过户后已登记新户主的联系人"
SUBSCRIPTION_NOT_FOUND: Final = "订阅 {subscription_id} 不存在"

# Maintenance worklist.
ITEM_NOT_FOUND: Final = "维护工单 {item_id} 不存在"
ITEM_CLOSED: Final = "维护工单 {item_id} 已关闭"
OUTCOME_SYSTEM_ONLY: Final = "resolved 只由系统在问题消失时使用"
CLOSING_NEEDS_CONTACT: Final = "请用 contact_id 指明处理的是哪个联系人"
CLOSING_NEEDS_PHONE: Final = "请填写号码 phone"
CLOSING_NO_ACCOUNT: Final = "此工单不属于某个用户或区域，不能添加联系人"
CLOSING_WRONG_CONTACT: Final = "联系人 {contact_id} 不属于此工单的用户或区域"
ITEM_NO_VALID_MOBILE: Final = (
    "用户 {account_id}（{name}）没有可用的手机号码，请电话或上门核实并补充"
)
ITEM_UNVERIFIED: Final = "{owner} 的联系人 {name} 自 {since} 起未核实，请电话核实"
ITEM_SHARED_NUMBER: Final = (
    "同一号码是 {count} 个用户的联系人（如代管电工），请核实是否仍为各户负责"
)
ITEM_INVALID_NUMBER: Final = "{owner} 的号码“{phone}”无效，请核实更正"
ITEM_UNDELIVERABLE: Final = "{owner} 的号码连续 {failures} 次投递失败（{reason}），请核实"
ITEM_TRANSFER_PENDING: Final = (
    "用户 {account_id}（{name}）于 {since} 过户，原联系人已注销，请登记新户主的联系人"
)
ITEM_COMPLAINT: Final = "停电 {outage_id} 的投诉归因于联系人：{detail}"
ITEM_CLOSED_REASON: Final = "维护工单 {item_id}（{outcome}）{note}"
UNDELIVERABLE_REASON: Final = "连续 {failures} 次投递失败：{reason}"
ITEM_RESOLVED_NOTE: Final = "问题已随登记库的其他变更消除"

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
TRANSFER_PENDING: Final = (
    "用户 {account}：{since} 已过户，原联系人已注销，新户主联系人尚未登记，需上门送达"
)
RECENTLY_CHANGED: Final = "用户 {account}：{date} {change}，请核实联系人和接入点"
REAPPROVAL_REQUIRED: Final = (
    "第 {version} 版名单已审批；因模型变更重新追踪（{reason}），本版须重新审批后才会发送"
)
RETRACE_DEFAULT_REASON: Final = "拓扑重新追踪"
RETRACE_ADDED: Final = "用户 {account}：重新追踪（{reason}）后新增为停电用户"
RETRACE_REMOVED: Final = "用户 {account}：重新追踪（{reason}）后不再停电，不应通知"
MISSING_SINCE_LAST: Final = (
    "用户 {account}：在同一线路上次停电 {outage_id}（第 {version} 版）的名单中，"
    "本次不在名单中，请核实是否漏发"
)
NEW_SINCE_LAST: Final = (
    "用户 {account}：同一线路上次停电 {outage_id} 的名单中没有，本次新增，请核实是否误发"
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
ACTION_EDIT: Final = "修改"
EDIT_ALREADY_ON_LIST: Final = "用户 {account_id} 已在名单中"
EDIT_NOT_ON_LIST: Final = "用户 {account_id} 不在名单中"

CATEGORY_NAMES: Final = {
    "residential": "居民",
    "commercial": "商业",
    "industrial": "工业",
    "important": "重要用户",
}
CHANGE_NAMES: Final = {
    "moved": "接入点或地址变更",
    "renamed": "户名变更",
    "transferred": "过户",
}
LIST_STATUS_NAMES: Final = {
    "draft": "待审批",
    "approved": "已审批",
    "rejected": "已退回",
    "cancelled": "已随停电取消",
    "superseded": "已被新版本取代",
}
