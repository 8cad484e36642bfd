// The review page: read an outage's draft notification list, warnings first, edit it and
// approve or reject it through the contacts API. Plain JavaScript, no build step. The bearer
// token is pasted by the user and kept in sessionStorage (gone when the tab closes); every
// value from the API is written with textContent, never as HTML.
"use strict";

const TOKEN_KEY = "contacts.review.token";
const TIMEZONE = "Asia/Shanghai";
const PAGE = 50;

const WARNING_NAMES = {
  reapproval_required: "需重新审批",
  retrace_removed: "重新追踪后移出",
  retrace_added: "重新追踪后新增",
  unknown_account: "登记库无此用户",
  missing_since_last: "上次有、本次无",
  node_mismatch: "接入点不一致",
  transfer_pending: "过户待登记",
  important_customer: "重要用户须电话通知",
  no_valid_mobile: "无可用手机",
  recently_changed: "近期变更",
  new_since_last: "本次新增",
};
const CHANNEL_NAMES = {
  sms: "短信", voice: "电话", door_slip: "上门送达", posted_notice: "张贴公告",
  wechat: "企业微信群", app_push: "应用推送", newspaper: "报纸",
};
const STATUS_NAMES = {
  draft: "待审批", approved: "已审批", rejected: "已退回",
  cancelled: "已随停电取消", superseded: "已被新版本取代",
};
const KIND_NAMES = {
  planned: "计划停电", temporary: "临时停电", emergency: "抢修停电",
  relocation: "迁改停电", orderly_use: "有序用电", load_shedding: "限电",
};

const state = { outage: null, version: null, warning: "", accountsOffset: 0,
                recipientsOffset: 0, warningsOffset: 0 };

const $ = (selector) => document.querySelector(selector);

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

function say(text, kind) {
  const box = $("#message");
  box.textContent = text;
  box.className = kind || "";
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  row.appendChild(td);
  return td;
}

function clear(tbody) {
  while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
}

function localTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat("zh-CN", {
    timeZone: TIMEZONE, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false,
  }).format(new Date(iso));
}

function warningName(code) {
  return WARNING_NAMES[code] || code;
}

async function api(method, path, body) {
  const headers = { Authorization: "Bearer " + token() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const where = data.field ? "（" + data.field + "）" : "";
    const error = new Error((data.detail || "请求失败") + where);
    error.status = response.status;
    throw error;
  }
  return data;
}

function showWho() {
  const raw = token();
  if (!raw) {
    $("#who").textContent = "未登录";
    return;
  }
  try {
    const payload = JSON.parse(atob(raw.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    $("#who").textContent = "当前用户：" + payload.sub + "（" + (payload.roles || []).join("、") + "）";
  } catch (_) {
    $("#who").textContent = "令牌格式不对";
  }
}

async function loadIndex() {
  const tbody = $("#drafts tbody");
  clear(tbody);
  if (!token()) return;
  const page = await api("GET", "/v1/lists?status=draft&limit=100");
  for (const item of page.items) {
    const row = document.createElement("tr");
    const link = document.createElement("a");
    link.href = "/review?outage=" + encodeURIComponent(item.outage_id);
    link.textContent = item.outage_id;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      openOutage(item.outage_id);
    });
    row.appendChild(document.createElement("td")).appendChild(link);
    cell(row, item.version);
    cell(row, item.details.work);
    cell(row, item.details.area);
    cell(row, localTime(item.details.starts_at));
    cell(row, item.counts.accounts);
    cell(row, item.counts.warnings);
    tbody.appendChild(row);
  }
}

function fact(dl, term, value) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = value === null || value === undefined ? "" : String(value);
  dd.dataset.term = term;
  dl.appendChild(dt);
  dl.appendChild(dd);
}

function pager(element, offset, total, onMove) {
  clear(element);
  const info = document.createElement("span");
  const last = Math.min(offset + PAGE, total);
  info.textContent = total ? `第 ${offset + 1}–${last} 条，共 ${total} 条 ` : "无";
  element.appendChild(info);
  if (offset > 0) {
    const back = document.createElement("button");
    back.textContent = "上一页";
    back.addEventListener("click", () => onMove(Math.max(0, offset - PAGE)));
    element.appendChild(back);
  }
  if (last < total) {
    const next = document.createElement("button");
    next.textContent = "下一页";
    next.addEventListener("click", () => onMove(offset + PAGE));
    element.appendChild(next);
  }
}

async function openOutage(outageId) {
  state.outage = outageId;
  state.warning = "";
  state.accountsOffset = state.recipientsOffset = state.warningsOffset = 0;
  history.pushState({}, "", "/review?outage=" + encodeURIComponent(outageId));
  await loadList();
}

async function loadList() {
  const params = new URLSearchParams({
    limit: PAGE, offset: state.accountsOffset, warnings_limit: PAGE,
    warnings_offset: state.warningsOffset,
  });
  if (state.warning) params.set("warning", state.warning);
  let data;
  try {
    data = await api("GET", "/v1/lists/" + encodeURIComponent(state.outage) + "?" + params);
  } catch (error) {
    say(error.message, "error");
    return;
  }
  state.version = data.version;
  $("#index").hidden = true;
  $("#list").hidden = false;
  $("#title").textContent = `停电 ${data.outage_id} · 第 ${data.version} 版 · `;
  const status = document.createElement("span");
  status.id = "status";
  status.textContent = STATUS_NAMES[data.status] || data.status;
  $("#title").appendChild(status);

  const outage = $("#outage");
  clear(outage);
  const d = data.details;
  fact(outage, "类型", KIND_NAMES[d.kind] || d.kind);
  fact(outage, "工作内容", d.work);
  fact(outage, "区域", d.area);
  fact(outage, "时间", localTime(d.starts_at) + " 至 " + localTime(d.ends_at));
  fact(outage, "编制人", data.planned_by);
  if (data.retrace_reason) fact(outage, "重新追踪原因", data.retrace_reason);
  if (data.compared_with) {
    fact(outage, "对比名单", `${data.compared_with.outage_id} 第 ${data.compared_with.version} 版`);
  }
  if (data.approved_by) fact(outage, "审批人", data.approved_by + " " + localTime(data.approved_at));
  if (data.rejected_by) fact(outage, "退回", data.rejected_by + "：" + data.rejection_reason);

  const counts = $("#counts");
  clear(counts);
  const c = data.counts;
  fact(counts, "停电用户", c.accounts);
  fact(counts, "接收人（全部轮次）", c.recipients);
  const first = Object.entries(c.first_wave_by_channel)
    .map(([channel, n]) => (CHANNEL_NAMES[channel] || channel) + " " + n).join("，");
  fact(counts, "首轮通知", c.first_wave + (first ? "（" + first + "）" : ""));
  fact(counts, "无可用手机", c.accounts_without_valid_mobile);
  fact(counts, "重要用户", c.important_accounts);
  fact(counts, "登记库无此用户", c.unknown_accounts);
  fact(counts, "审核移出", c.removed_accounts);
  fact(counts, "警告", c.warnings);

  renderWarnings(data);
  renderAccounts(data);
  renderRecipients(data.recipients.items, data.recipients.total);
  renderEdits(data.edits);
  $("#decide").hidden = data.status !== "draft";
}

function renderWarnings(data) {
  const chips = $("#warning-summary");
  clear(chips);
  const select = $("#warning-filter");
  while (select.options.length > 1) select.remove(1);
  for (const [code, n] of Object.entries(data.warning_counts)) {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.dataset.code = code;
    chip.textContent = `${warningName(code)} ${n}`;
    if (code === state.warning) chip.className = "active";
    chip.addEventListener("click", () => filterBy(code === state.warning ? "" : code));
    chips.appendChild(chip);
    const option = document.createElement("option");
    option.value = code;
    option.textContent = `${warningName(code)}（${n}）`;
    select.appendChild(option);
  }
  select.value = state.warning;
  const tbody = $("#warnings tbody");
  clear(tbody);
  for (const w of data.warnings) {
    const row = document.createElement("tr");
    row.dataset.code = w.code;
    cell(row, warningName(w.code));
    cell(row, w.account_id);
    cell(row, w.message);
    tbody.appendChild(row);
  }
  pager($("#warnings-pager"), state.warningsOffset, data.warnings_total, (offset) => {
    state.warningsOffset = offset;
    loadList();
  });
}

function renderAccounts(data) {
  const tbody = $("#accounts tbody");
  clear(tbody);
  for (const a of data.accounts.items) {
    const row = document.createElement("tr");
    row.dataset.account = a.account_id;
    if (a.removed) row.className = "removed";
    cell(row, a.account_id);
    cell(row, a.name === null ? "（登记库无此用户）" : a.name);
    cell(row, a.category);
    cell(row, a.voltage_kv === null ? "" : a.voltage_kv + " kV");
    cell(row, a.transformer_area + (a.node_id !== a.transformer_area ? " / " + a.node_id : ""));
    cell(row, a.contacts.map((p) => `${p.name || "—"} ${p.phone}（${p.role}，${p.status}）`).join("；"));
    cell(row, a.plan.map((p) => `${p.wave}：${CHANNEL_NAMES[p.channel] || p.channel}`).join("，"));
    cell(row, a.warnings.map(warningName).join("、"));
    tbody.appendChild(row);
  }
  pager($("#accounts-pager"), state.accountsOffset, data.accounts.total, (offset) => {
    state.accountsOffset = offset;
    loadList();
  });
}

function renderRecipients(items, total) {
  const tbody = $("#recipients tbody");
  clear(tbody);
  for (const r of items) {
    const row = document.createElement("tr");
    cell(row, r.wave === 0 ? "首轮" : "升级 " + r.wave);
    cell(row, CHANNEL_NAMES[r.channel] || r.channel);
    cell(row, r.location ? `${r.address}（${r.location}）` : r.address);
    cell(row, r.contact_name);
    cell(row, r.account_ids.length > 3
      ? r.account_ids.slice(0, 3).join("、") + ` 等 ${r.account_ids.length} 户`
      : r.account_ids.join("、"));
    cell(row, r.call_window || "");
    tbody.appendChild(row);
  }
  pager($("#recipients-pager"), state.recipientsOffset, total, async (offset) => {
    state.recipientsOffset = offset;
    const params = new URLSearchParams({ limit: PAGE, offset });
    const data = await api("GET", "/v1/lists/" + encodeURIComponent(state.outage) + "?" + params);
    renderRecipients(data.recipients.items, data.recipients.total);
  });
}

function renderEdits(edits) {
  const tbody = $("#edits tbody");
  clear(tbody);
  for (const e of edits) {
    const row = document.createElement("tr");
    cell(row, localTime(e.edited_at));
    cell(row, e.action === "add" ? "加入" : "移出");
    cell(row, e.account_id);
    cell(row, e.reason);
    cell(row, e.edited_by);
    tbody.appendChild(row);
  }
}

function filterBy(code) {
  state.warning = code;
  state.accountsOffset = state.warningsOffset = 0;
  loadList();
}

async function act(run, done) {
  try {
    await run();
    say(done, "ok");
    await loadList();
  } catch (error) {
    say(error.message, "error");
  }
}

function init() {
  $("#token").value = token();
  showWho();
  $("#token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("#token").value.trim());
    showWho();
    say("令牌已保存", "ok");
    start();
  });
  $("#clear-token").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    $("#token").value = "";
    showWho();
    say("令牌已清除");
  });
  $("#open-form").addEventListener("submit", (event) => {
    event.preventDefault();
    openOutage($("#outage-id").value.trim());
  });
  $("#warning-filter").addEventListener("change", (event) => filterBy(event.target.value));
  $("#edit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = {
      action: $("#edit-action").value,
      account_id: $("#edit-account").value.trim(),
      reason: $("#edit-reason").value.trim(),
      version: state.version,
    };
    act(() => api("POST", `/v1/lists/${encodeURIComponent(state.outage)}/edits`, body),
        `已${body.action === "add" ? "加入" : "移出"}用户 ${body.account_id}`);
  });
  $("#approve-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { comment: $("#approve-comment").value.trim() || null, version: state.version };
    act(() => api("POST", `/v1/lists/${encodeURIComponent(state.outage)}/approve`, body),
        `第 ${state.version} 版名单已审批，开始发送`);
  });
  $("#reject-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { reason: $("#reject-reason").value.trim(), version: state.version };
    act(() => api("POST", `/v1/lists/${encodeURIComponent(state.outage)}/reject`, body),
        `第 ${state.version} 版名单已退回编制人`);
  });
  window.addEventListener("popstate", start);
  start();
}

function start() {
  if (!token()) {
    say("请先粘贴访问令牌（审核人角色）");
    return;
  }
  const outage = new URLSearchParams(location.search).get("outage");
  if (outage) {
    state.outage = outage;
    loadList();
  } else {
    $("#list").hidden = true;
    $("#index").hidden = false;
    loadIndex().catch((error) => say(error.message, "error"));
  }
}

init();
