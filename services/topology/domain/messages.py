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
    "停电用户可能有遗漏：网络模型可能在登记后重新导入过，请核对后重新登记。"
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

# Uploads.
UPLOAD_NOT_MULTIPART = "请以 multipart/form-data 上传 nodes、devices、customers 三个文件"
UPLOAD_MISSING_FILE = "缺少文件 {field}（{file}）"
UPLOAD_MALFORMED = "上传内容不是完整的 multipart/form-data：{reason}"

# Outages.
UNKNOWN_DEVICE_IN_PLAN = "设备“{device}”不在当前网络模型（版本 {version}）中"
TIME_WITHOUT_OFFSET = "{field} 必须带时区，例如 2026-11-28T08:00:00+08:00"
END_NOT_AFTER_START = "结束时间必须晚于开始时间"
OUTAGE_EXISTS = "停电计划 {outage_id} 已存在"
OUTAGE_NOT_FOUND = "停电计划 {outage_id} 不存在"
OUTAGE_ALREADY_CANCELLED = "停电计划 {outage_id} 已经取消"
