"""Every zh-CN sentence the receipts service shows to people, kept together for review.

Operators read these on the worklist, in complaint classifications and in evidence packs
(which a regulator may read too); the placeholders are filled with ``str.format``.
"""

from __future__ import annotations

from typing import Final

CHANNELS: Final = {
    "sms": "短信",
    "voice": "语音电话",
    "door_slip": "上门送达通知单",
    "posted_notice": "张贴公告",
    "newspaper": "报纸公告",
    "wechat": "微信",
    "app_push": "App推送",
    "visit": "现场走访",
    "posting": "张贴公告",
}
NOTICE_KINDS: Final = {
    "notice": "停电通知",
    "cancellation": "取消停电通知",
    "reminder": "停电提醒",
    "reschedule": "改期通知",
}
OUTAGE_KINDS: Final = {
    "planned": "计划停电",
    "temporary": "临时停电",
    "emergency": "故障抢修",
    "relocation": "迁改工程停电",
    "orderly_use": "有序用电",
    "load_shedding": "限电",
}
ROLES: Final = {
    "electrical": "电气联系人",
    "legal": "法定代表人",
    "billing": "账务联系人",
    "area": "台区联系人",
    "other": "其他联系人",
}
VIAS: Final = {
    "sms_reply": "短信回复确认",
    "voice_keypress": "电话按键确认",
    "signed_slip": "签收通知单",
    "posting_confirmed": "台区联系人确认已张贴",
}
TASK_OUTCOMES: Final = {
    "signed": "已签收",
    "left": "已送达（未签收）",
    "unreachable": "无法送达",
    "posted": "已张贴",
    "not_posted": "未能张贴",
}

# Why an account moved on its escalation ladder (escalation.requested, worklist).
ESCALATION_REASONS: Final = {
    "no_contact": "该户没有可用的联系方式，转现场走访",
    "all_contacts_failed": "该户所有联系方式均未送达，转现场走访",
    "step_failed": "上一渠道送达失败，升级至下一渠道",
    "unconfirmed": "截至升级时点仍未确认送达，升级至下一渠道",
    "posting_unconfirmed": "台区联系人未确认张贴，需现场张贴并拍照",
}
TASK_TITLES: Final = {
    "visit": "上门告知停电：{account}",
    "door_slip": "送达停电通知单并请用户签收：{account}",
    "posting": "在台区 {area} 张贴停电公告并拍照",
}
TASK_CANCELLED_OUTAGE: Final = "停电已取消，任务作废"
TASK_COMPLETED_OUTAGE: Final = "停电已结束，任务作废"

# Complaint findings (detail of complaint.classified).
COMPLAINT_FINDINGS: Final = {
    "not_on_list_model_still_misses": (
        "该户不在审核后的停电名单中，按当前网络模型追踪仍不在停电范围内："
        "模型与现场不符（图实不符），需现场核查该户的供电关系"
    ),
    "not_on_list_model_now_feeds": (
        "该户不在审核后的停电名单中，但按当前网络模型追踪属于停电范围：当时的追踪或模型有误"
    ),
    "not_on_list": "该户不在审核后的停电名单中：网络模型或追踪有误（拓扑服务暂无法复核）",
    "no_contact": "该户在停电名单中，但没有可用的联系人：需补充联系方式",
    "numbers_invalid": "该户在停电名单中，但联系号码均为空号、停机或无效：需核实联系方式",
    "not_delivered": "该户有有效联系方式，但通知未能确认送达：送达环节失败",
    "nothing_sent": "该户有有效联系方式，但未向其发出任何通知：发送环节失败",
    "delivered_acknowledged": "通知已送达且已确认收到：问题在用户一方（如联系人未转告）",
    "delivered": "通知已确认送达，但用户未回复确认：问题在用户一方（如联系人未转告）",
    "on_list_model_still_feeds": (
        "该户在停电名单中且当前模型仍显示其受影响，但用户反映未停电：模型与现场不符，需现场核查"
    ),
    "on_list_model_now_excludes": (
        "该户在停电名单中，但按当前网络模型追踪已不在停电范围内：当时的追踪或模型有误"
    ),
    "on_list_no_outage": "该户在停电名单中，但用户反映未停电：网络模型或追踪有误",
    "cancellation_delivered": "停电已取消，取消通知已确认送达：问题在用户一方",
    "cancellation_not_delivered": "停电已取消，但取消通知未能确认送达：送达环节失败",
    "never_told": "记录显示未向该户发出本次停电的通知：无法归因，请人工核查",
    "reschedule_delivered": "停电已改期，改期后的通知已确认送达：问题在用户一方",
    "reschedule_not_delivered": "停电已改期，但改期后的通知未能确认送达：送达环节失败",
    "times_as_announced": "停电未改期，通知时间与计划一致：请核查现场作业是否按时",
    "other": "其他类型投诉，请人工核查（见送达记录）",
}

# Evidence packs.
EVIDENCE_TITLE: Final = "停电通知送达证明"
EVIDENCE_EVENTS: Final = {
    "sent": "发出{notice_kind}（{channel}）至 {to}",
    "refused": "{channel}发送被拒绝：{reason}",
    "receipt": "{channel}回执：{status}（{stat}{err}）{reason}",
    "call": "电话结果：{outcome}",
    "reply": "用户回复：“{text}”",
    "acknowledged": "确认收到：{via}",
    "escalated": "升级至第 {step} 步：{reason}",
    "task_created": "生成现场任务：{title}",
    "task_closed": "现场任务完成：{outcome}{signer}{photo}",
    "cancelled": "停电取消：{reason}",
    "complaint": "投诉（{type}）：{detail}",
}
CALL_OUTCOMES: Final = {
    "answered": "已接听",
    "confirmed": "已接听并按键确认",
    "no_answer": "无人接听",
    "busy": "占线",
    "failed": "无法接通",
}
RECEIPT_STATUSES: Final = {
    "delivered": "已送达",
    "failed": "送达失败",
    "expired": "超时未送达",
    "accepted": "运营商已接收",
    "unknown": "状态未知",
}
COMPLAINT_TYPES: Final = {
    "not_notified": "未收到通知",
    "no_outage": "收到通知但未停电",
    "wrong_time": "停电时间与通知不符",
    "other": "其他",
}
PDF_LABELS: Final = {
    "outage": "停电编号",
    "kind": "停电类型",
    "work": "工作内容",
    "area": "停电范围",
    "period": "停电时间",
    "account": "用户",
    "feeder": "供电线路",
    "contacts": "审核名单中的联系人",
    "timeline": "通知与回执记录",
    "summary": "结论",
    "first_sent": "首次发出",
    "first_confirmed": "首次确认送达",
    "acknowledged": "用户确认收到",
    "lead_time": "实际提前时间",
    "required": "规定提前时间",
    "in_time": "是否按时告知",
    "yes": "是",
    "no": "否",
    "none": "无",
    "generated": "生成时间",
    "cancelled": "已取消",
    "time": "时间",
    "event": "事项",
    "role": "身份",
    "name": "姓名",
    "channel": "渠道",
    "address": "号码/地址",
    "wave": "升级顺序",
}
LEAD_TIME: Final = "{days} 天 {hours} 小时"
CHART_TITLE: Final = "停电 {outage} 通知覆盖率"
CHART_REACHED: Final = "已确认送达"
CHART_ACKNOWLEDGED: Final = "用户已确认"
CHART_DEADLINE: Final = "截止"
CHART_START: Final = "停电开始"
