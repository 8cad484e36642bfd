"""What the topology service says to people (zh-CN), kept apart from the logic that says it.

Each text is a ``str.format`` template; the names in braces are filled in by the caller.
"""

from __future__ import annotations

# Trace warnings, read by the reviewer before approving a notification list.
NO_EFFECT_OPEN = "第 {step} 步断开 {device}：该设备此时已处于断开状态，这一步不改变供电范围。"
NO_EFFECT_CLOSE = "第 {step} 步合上 {device}：该设备此时已处于合上状态，这一步不改变供电范围。"
PARALLEL_SOURCES = (
    "操作完成后，电源 {sources} 经闭合设备相连（合环运行），请核对操作步骤是否遗漏了断开操作。"
)
NO_CUSTOMERS_AFFECTED = (
    "按当前网络模型，这些操作不会使任何用户停电，请核对停电设备、操作步骤和网络模型。"
)
UNKNOWN_DEVICE = (
    "设备 {devices} 不在当前网络模型（版本 {version}）中，相关操作没有参与追踪，"
    "停电用户可能有遗漏：网络模型可能在登记后变更过，请核对后重新登记。"
)
LEAD_TIME_SHORT = (
    "{kind}应至少提前 {required}通知用户，本次停电开始时间距登记仅 {actual}，"
    "通知时间不足，请审核人确认是否仍按此时间停电。"
)
KIND_NAMES = {
    "planned": "计划停电",
    "temporary": "临时停电",
    "emergency": "故障抢修停电",
    "relocation": "迁改工程停电",
    "orderly_use": "有序用电",
    "load_shedding": "负荷控制限电",
}
DAYS = "{days} 天"
HOURS = "{hours} 小时"
MINUTES = "{minutes} 分钟"

# The checks of the model (GET /v1/network/checks, and before every trace).
AND_MORE = "{listed} 等共 {total} 个"
CHECK_ISLAND = (
    "节点 {nodes} 在正常运行方式下没有任何电源供电（孤岛），其上有 {customers} 户用户{next_to}；"
    "这些用户不会出现在任何停电范围内，请现场核对接线。"
)
CHECK_ISLAND_NEXT_TO = "，经断开设备与 {feeders} 相邻"
CHECK_SOURCES_PARALLELED = (
    "电源 {sources} 在正常运行方式下经闭合设备 {devices} 相连（合环），配电网应辐射状运行，"
    "请核对这些设备的正常状态。"
)
CHECK_CLOSED_LOOP = (
    "{feeder} 在正常运行方式下经闭合设备 {devices} 形成环路，配电网应辐射状运行，"
    "请核对联络开关的正常状态。"
)
CHECK_DEVICE_MISSING_NODE = "设备 {device} 连接的节点 {nodes} 不在网络模型中，该设备未参与追踪。"
CHECK_CUSTOMER_MISSING_NODE = "用户 {account} 所接节点 {node} 不在网络模型中，该用户不会被追踪到。"
CHECK_DUPLICATE_NAME = "{feeder}内的{what} {ids} 同名“{name}”，现场按名称操作或核对时容易混淆。"
CHECK_EMPTY_TRANSFORMER = (
    "{feeder} 的台区 {name}（{node}）下没有任何用户，可能漏录了用户或用户挂接到了别的节点。"
)
CHECK_BUSY_BRANCH_CHANGED = (
    "分支节点 {name}（{node}）下接 {customers} 户用户，近期被变更批次 {batch} 修改过，"
    "请核对其名称、编号和设备属性与现场一致。"
)

# Checks of the CSV bundle, one per bad row.
CSV_EMPTY = "文件为空，缺少表头"
CSV_HEADER = "表头应为 {expected}，实际为 {actual}"
CSV_COLUMNS = "应有 {expected} 列，实际有 {actual} 列"
CSV_NOT_UTF8 = "不是 UTF-8 编码（Excel 请另存为“CSV UTF-8”格式）"
CSV_MALFORMED = "CSV 格式错误：{error}"
REQUIRED = "不能为空"
TOO_LONG = "不能超过 {limit} 个字符"
NOT_ONE_OF = "取值“{value}”无效，应为 {allowed} 之一"
NOT_A_NUMBER = "“{value}”不是有效的数值"
NOT_POSITIVE = "应大于 0"
DUPLICATE_ID = "“{value}”重复出现"
UNKNOWN_NODE = "节点“{value}”不在 nodes.csv 中"
SAME_NODE_TWICE = "from_node 与 to_node 不能是同一个节点“{value}”"
BUNDLE_INVALID = "{file} 第 {row} 行 {field}：{message}（共 {total} 处错误，本次导入未生效）"
BUNDLE_CHANGED = "{file} 在导入过程中发生了变化，导入已撤销"
IMPORT_REASON = "导入网络模型文件"

# Uploads.
UPLOAD_NOT_MULTIPART = "请以 multipart/form-data 上传 nodes、devices、customers 三个文件"
UPLOAD_MISSING_FILE = "缺少文件 {field}（{file}）"
UPLOAD_MALFORMED = "上传内容不是完整的 multipart/form-data：{reason}"
UPLOAD_TWICE = "字段 {field} 上传了两次"

# Change batches.
NODE_EXISTS = "节点“{node}”已存在"
NODE_UNKNOWN = "节点“{node}”不在网络模型中"
NODE_NAME_UNCHANGED = "节点“{node}”已经叫“{name}”"
DEVICE_EXISTS = "设备“{device}”已存在"
DEVICE_UNKNOWN = "设备“{device}”不在网络模型中"
DEVICE_STATE_UNCHANGED = "设备“{device}”的正常状态已经是 {state}"
DEVICE_SAME_NODE = "from_node 与 to_node 不能是同一个节点“{node}”"
CUSTOMER_EXISTS = "用户“{account}”已存在"
CUSTOMER_UNKNOWN = "用户“{account}”不在网络模型中"
CUSTOMER_ALREADY_THERE = "用户“{account}”已经接在节点“{node}”"
HISTORY_ONE_ELEMENT = "请只指定 account_id、device_id、node_id 其中之一"
BATCH_INVALID = "变更批次未生效：{field}：{message}（共 {total} 处错误）"
DISCREPANCY_UNKNOWN = "差异记录 {discrepancy} 不存在"
DISCREPANCY_CLOSED = "差异记录 {discrepancy} 已经关闭"
DISCREPANCY_NOT_FIXED = (
    "本批变更之后，模型仍与现场记录不符（现场：{observed}；模型：{modelled}），"
    "不能关闭差异记录 {discrepancy}"
)
NOT_A_FEEDER = "“{feeder}”不是网络模型中任何馈线的电源节点"
RETRACE_REASON = "网络模型变更为版本 {version}（{batch}）：{reasons}"
RETRACE_AFTER_IMPORT = "重新导入了网络模型（版本 {version}）"

# Spot checks and discrepancies: what the field saw, and what the model says.
ABSENT = "不存在"
OBSERVED_CUSTOMER_NODE = "用户 {element} 接在节点 {value}"
OBSERVED_CUSTOMER_ABSENT = "用户 {element} 在现场不存在"
OBSERVED_DEVICE_STATE = "设备 {element} 正常状态为 {value}"
OBSERVED_DEVICE_ABSENT = "设备 {element} 在现场不存在"
OBSERVED_NODE_NAME = "节点 {element} 的现场名称为“{value}”"
COMPLAINT_DETAIL = "投诉 {complaint}（停电计划 {outage}，{complaint_type}）：{detail}"

# Outages.
UNKNOWN_DEVICE_IN_PLAN = "设备“{device}”不在当前网络模型（版本 {version}）中"
TIME_WITHOUT_OFFSET = "{field} 必须带时区，例如 2026-11-28T08:00:00+08:00"
END_NOT_AFTER_START = "结束时间必须晚于开始时间"
OUTAGE_EXISTS = "停电计划 {outage_id} 已存在"
OUTAGE_NOT_FOUND = "停电计划 {outage_id} 不存在"
OUTAGE_ALREADY_CANCELLED = "停电计划 {outage_id} 已经取消"
OUTAGE_ALREADY_COMPLETED = "停电计划 {outage_id} 已经完工"
OUTAGE_NOT_STARTED = "停电计划 {outage_id} 尚未开始，不能登记完工"
OUTAGE_STARTED_KEEP_START = "停电计划 {outage_id} 已经开始，只能调整结束时间（延长或提前送电）"
RESCHEDULE_UNCHANGED = "新的开始和结束时间与原计划相同"
RESCHEDULE_START_PASSED = "新的开始时间已经过去"
RESCHEDULE_END_PASSED = "新的结束时间已经过去"
