/* Notices page (物业通知): compose a bilingual notice, pick who gets it, preview the count, send,
 * and read each notice's delivery report.
 *
 * Over /api/notices (docs/api.md "Notices"). Admins compose and send; every member of staff sees
 * the list and the reports. A feature of the desk: registers with window.LinliDesk (see the top of
 * console.js); no inline scripts or styles (CSP), styles in notices.css.
 */
"use strict";
(function () {
  const D = window.LinliDesk;
  const { el, t, $ } = D;
  const fill = (key, values) => Object.entries(values || {}).reduce((s, [k, v]) => s.split(`{${k}}`).join(String(v)), t(key));
  const COUNTS = ["sent", "queued", "failed", "undeliverable", "skipped"];
  const CHANNELS = { wechat: "nt_ch_wechat", telegram: "nt_ch_telegram", socketio: "nt_ch_socketio" };
  const st = { built: false, notices: [], selected: null, buildings: [] };

  D.strings({
    zh: {
      nav_notices: "通知", kd_notice: "物业通知",
      nt_compose: "发布通知", nt_title_zh: "中文标题", nt_body_zh: "中文正文", nt_title_en: "英文标题 (English title)",
      nt_body_en: "英文正文 (English text)", nt_urgent: "紧急通知（已退订的居民也会收到）", nt_target: "发送对象",
      nt_kind_all: "全体居民", nt_kind_buildings: "指定楼栋", nt_kind_units: "指定房号", nt_buildings_other: "其他楼栋（逗号分隔）",
      nt_units_hint: "每行一个房号，如 3栋2单元502 或 3-2-502", nt_residents: "{n} 户", nt_no_buildings: "暂无已知楼栋的居民",
      nt_preview: "预览人数", nt_send: "发送", nt_sending: "正在发送…",
      nt_preview_line: "将发送给 {n} 位居民", nt_preview_skipped: "，{s} 位已退订（非紧急通知不发送）",
      nt_by_channel: "按渠道", nt_by_language: "按语言", nt_ch_wechat: "微信", nt_ch_telegram: "Telegram", nt_ch_socketio: "网页聊天",
      nt_lang_zh: "中文", nt_lang_en: "英文",
      nt_confirm_send: "确定发送“{title}”给 {n} 位居民吗？发送后无法撤回。", nt_sent_ok: "已发送：{n} 位居民。",
      nt_list: "已发布的通知", nt_col_time: "时间", nt_col_title: "标题", nt_col_target: "对象", nt_col_status: "状态",
      nt_col_result: "投递结果", nt_none: "还没有通知", nt_urgent_tag: "紧急",
      nt_status_draft: "草稿", nt_status_sending: "发送中", nt_status_sent: "已发送", nt_send_draft: "发送草稿",
      nt_target_all: "全体居民", nt_target_buildings: "楼栋 {b}", nt_target_units: "{n} 个房号",
      nt_report: "投递报告", nt_c_sent: "已送达", nt_c_queued: "排队中", nt_c_failed: "失败", nt_c_undeliverable: "无法送达",
      nt_c_skipped: "已跳过（退订）", nt_c_unknown: "未知", nt_c_total: "合计",
      nt_col_resident: "居民", nt_col_channel: "渠道", nt_col_language: "语言", nt_col_reason: "原因", nt_reason_opted_out: "居民已退订",
      nt_refresh: "刷新", nt_admin_only: "只有管理员可以发布通知。",
      nt_err_missing_field: "请填写中英文标题和正文。", nt_err_bad_unit: "房号无法识别：", nt_err_bad_building: "楼栋无法识别：",
      nt_err_bad_target: "请选择发送对象：", nt_err_too_long: "内容太长：", nt_err_already_sent: "这条通知已经发送过了。",
    },
    en: {
      nav_notices: "Notices", kd_notice: "notice",
      nt_compose: "New notice", nt_title_zh: "Chinese title (中文标题)", nt_body_zh: "Chinese text (中文正文)", nt_title_en: "English title",
      nt_body_en: "English text", nt_urgent: "Urgent (also reaches residents who opted out)", nt_target: "Send to",
      nt_kind_all: "All residents", nt_kind_buildings: "Some buildings", nt_kind_units: "Some units", nt_buildings_other: "Other buildings (comma-separated)",
      nt_units_hint: "One unit per line, e.g. 3栋2单元502 or 3-2-502", nt_residents: "{n} residents", nt_no_buildings: "No residents with a known building yet",
      nt_preview: "Preview", nt_send: "Send", nt_sending: "Sending…",
      nt_preview_line: "Will be sent to {n} residents", nt_preview_skipped: "; {s} opted out (skipped unless urgent)",
      nt_by_channel: "By channel", nt_by_language: "By language", nt_ch_wechat: "WeChat", nt_ch_telegram: "Telegram", nt_ch_socketio: "Web chat",
      nt_lang_zh: "Chinese", nt_lang_en: "English",
      nt_confirm_send: "Send \"{title}\" to {n} residents? This cannot be undone.", nt_sent_ok: "Sent to {n} residents.",
      nt_list: "Notices", nt_col_time: "Time", nt_col_title: "Title", nt_col_target: "To", nt_col_status: "Status",
      nt_col_result: "Delivery", nt_none: "No notices yet", nt_urgent_tag: "urgent",
      nt_status_draft: "draft", nt_status_sending: "sending", nt_status_sent: "sent", nt_send_draft: "Send draft",
      nt_target_all: "all residents", nt_target_buildings: "buildings {b}", nt_target_units: "{n} units",
      nt_report: "Delivery report", nt_c_sent: "delivered", nt_c_queued: "queued", nt_c_failed: "failed", nt_c_undeliverable: "undeliverable",
      nt_c_skipped: "skipped (opted out)", nt_c_unknown: "unknown", nt_c_total: "total",
      nt_col_resident: "Resident", nt_col_channel: "Channel", nt_col_language: "Language", nt_col_reason: "Reason", nt_reason_opted_out: "opted out",
      nt_refresh: "Refresh", nt_admin_only: "Only admins can send notices.",
      nt_err_missing_field: "Fill in the title and text in both languages.", nt_err_bad_unit: "Unit not understood: ", nt_err_bad_building: "Building not understood: ",
      nt_err_bad_target: "Choose who gets it: ", nt_err_too_long: "Too long: ", nt_err_already_sent: "This notice was sent already.",
    },
  });

  const isAdmin = () => (D.me() || {}).role === "admin";
  const title = (n) => (D.lang() === "en" ? n.title_en : n.title_zh);
  const errorText = (e) => {
    const key = "nt_err_" + (e.code || "");
    const known = t(key) !== key;
    return known ? (e.code === "missing_field" || e.code === "already_sent" ? t(key) : t(key) + e.message) : t("error") + e.message;
  };
  function targetText(target) {
    if (!target || target.kind === "all") return t("nt_target_all");
    if (target.kind === "buildings") return fill("nt_target_buildings", { b: target.buildings.join("、") });
    return fill("nt_target_units", { n: target.units.length }) + ": " + target.units.map((u) => (D.lang() === "en" ? u.unit_en : u.unit)).join("、");
  }
  function countsText(counts) {
    if (!counts) return "-";
    return COUNTS.filter((k) => counts[k]).map((k) => `${t("nt_c_" + k)} ${counts[k]}`).join(" · ") || "-";
  }

  // ------------------------------------------------------------ page
  function build() {
    const root = $("#view-notices");
    const field = (key, node) => el("label", { class: "nt-field" }, el("span", {}, t(key)), node);
    const kind = el("select", { id: "nt-target-kind", onchange: showTargetInputs },
      ...["all", "buildings", "units"].map((k) => el("option", { value: k }, t("nt_kind_" + k))));
    const compose = el("form", { id: "notice-form", class: "card nt-compose", onsubmit: (ev) => { ev.preventDefault(); sendNew(); } },
      el("h2", {}, t("nt_compose")),
      el("div", { class: "nt-langs" },
        el("div", {}, field("nt_title_zh", el("input", { id: "nt-title-zh", maxlength: "100" })),
          field("nt_body_zh", el("textarea", { id: "nt-body-zh", rows: "4", maxlength: "2000" }))),
        el("div", {}, field("nt_title_en", el("input", { id: "nt-title-en", maxlength: "100" })),
          field("nt_body_en", el("textarea", { id: "nt-body-en", rows: "4", maxlength: "2000" })))),
      el("label", { class: "nt-urgent" }, el("input", { id: "nt-urgent", type: "checkbox" }), " ", t("nt_urgent")),
      el("div", { class: "nt-target" }, field("nt_target", kind),
        el("div", { id: "nt-buildings-box", hidden: "hidden" }, el("div", { id: "nt-buildings", class: "nt-buildings" }),
          field("nt_buildings_other", el("input", { id: "nt-buildings-other", size: "16" }))),
        el("div", { id: "nt-units-box", hidden: "hidden" },
          field("nt_units_hint", el("textarea", { id: "nt-units", rows: "3" })))),
      el("div", { class: "row nt-actions" },
        el("button", { type: "button", id: "nt-preview", class: "secondary", onclick: () => preview().catch(() => {}) }, t("nt_preview")),
        el("button", { type: "submit", id: "nt-send" }, t("nt_send"))),
      el("div", { id: "nt-preview-result", class: "nt-preview", role: "status" }),
      el("p", { id: "nt-message", role: "alert" }));
    const list = el("div", { class: "card" },
      el("div", { class: "row nt-list-head" }, el("h2", {}, t("nt_list")),
        el("button", { type: "button", class: "secondary", id: "nt-refresh", onclick: () => loadList() }, t("nt_refresh"))),
      el("table", { id: "notice-table" }, el("thead", {}, el("tr", {},
        ...["nt_col_time", "nt_col_title", "nt_col_target", "nt_col_status", "nt_col_result"].map((k) => el("th", {}, t(k))), el("th", {}))),
      el("tbody", {})));
    root.replaceChildren(isAdmin() ? compose : el("p", { class: "card muted" }, t("nt_admin_only")), list,
      el("div", { id: "notice-report", class: "card", hidden: "hidden" }));
    st.built = true;
    st.role = (D.me() || {}).role;
  }
  function showTargetInputs() {
    const kind = $("#nt-target-kind").value;
    $("#nt-buildings-box").hidden = kind !== "buildings";
    $("#nt-units-box").hidden = kind !== "units";
    $("#nt-preview-result").replaceChildren();
  }
  async function loadBuildings() {
    if (!isAdmin()) return;
    try { st.buildings = (await D.api("/api/notices/targets")).buildings; } catch (e) { st.buildings = []; }
    const box = $("#nt-buildings");
    if (!box) return;
    box.replaceChildren(...(st.buildings.length ? st.buildings.map((b) => el("label", { class: "nt-building" },
      el("input", { type: "checkbox", value: b.building, class: "nt-building-box" }), ` ${b.building} `,
      el("span", { class: "muted" }, fill("nt_residents", { n: b.residents })))) : [el("span", { class: "muted" }, t("nt_no_buildings"))]));
  }

  // ------------------------------------------------------------ compose
  function target() {
    const kind = $("#nt-target-kind").value;
    if (kind === "buildings") {
      const picked = Array.from(document.querySelectorAll(".nt-building-box:checked")).map((n) => n.value);
      const other = $("#nt-buildings-other").value.split(/[,，、\s]+/).filter(Boolean);
      return { kind, buildings: picked.concat(other) };
    }
    if (kind === "units") return { kind, units: $("#nt-units").value.split(/\n+/).map((s) => s.trim()).filter(Boolean) };
    return { kind: "all" };
  }
  function draft() {
    return { title_zh: $("#nt-title-zh").value, body_zh: $("#nt-body-zh").value, title_en: $("#nt-title-en").value,
      body_en: $("#nt-body-en").value, urgent: $("#nt-urgent").checked, target: target() };
  }
  function say(text, ok) { const m = $("#nt-message"); m.className = ok ? "nt-ok" : "error"; m.textContent = text; }
  async function preview() {
    say("", true);
    const box = $("#nt-preview-result");
    try {
      const data = (await D.api("/api/notices/preview", { method: "POST", body: { target: target(), urgent: $("#nt-urgent").checked } })).preview;
      const channels = Object.entries(data.by_channel).map(([c, n]) => `${t(CHANNELS[c] || c)} ${n}`).join(" · ") || "-";
      const languages = Object.entries(data.by_language).map(([l, n]) => `${t("nt_lang_" + l)} ${n}`).join(" · ") || "-";
      box.replaceChildren(
        el("p", { class: "nt-count" }, el("strong", { id: "nt-preview-count", "data-count": data.will_send }, fill("nt_preview_line", { n: data.will_send })),
          data.opted_out && !data.urgent ? fill("nt_preview_skipped", { s: data.opted_out }) : ""),
        el("p", { class: "muted nt-by-channel" }, `${t("nt_by_channel")}: ${channels}`),
        el("p", { class: "muted" }, `${t("nt_by_language")}: ${languages}`));
      return data;
    } catch (e) { box.replaceChildren(); say(errorText(e)); throw e; }
  }
  async function sendNew() {
    const body = draft();
    let counts;
    try { counts = await preview(); } catch (e) { return; }
    const name = body.title_zh || body.title_en;
    if (!confirm(fill("nt_confirm_send", { title: name, n: counts.will_send }))) return;
    const button = $("#nt-send");
    button.disabled = true; button.textContent = t("nt_sending");
    try {
      const created = (await D.api("/api/notices", { method: "POST", body })).notice;
      const sent = (await D.api(`/api/notices/${created.id}/send`, { method: "POST", body: {} })).notice;
      say(fill("nt_sent_ok", { n: sent.report.counts.total }), true);
      $("#notice-form").reset(); showTargetInputs();
      st.selected = sent.id;
      await loadList();
      showReport(sent);
    } catch (e) { say(errorText(e)); }
    finally { button.disabled = false; button.textContent = t("nt_send"); }
  }
  async function sendDraft(notice) {
    if (!confirm(fill("nt_confirm_send", { title: title(notice), n: "?" }))) return;
    try { const sent = (await D.api(`/api/notices/${notice.id}/send`, { method: "POST", body: {} })).notice; await loadList(); showReport(sent); }
    catch (e) { say(errorText(e)); }
  }

  // ------------------------------------------------------------ list and report
  async function loadList() {
    const tbody = $("#notice-table tbody");
    try {
      st.notices = (await D.api("/api/notices?limit=50")).notices;
      tbody.replaceChildren(...st.notices.map((n) => el("tr", { class: "nt-row" + (n.id === st.selected ? " active" : ""), "data-id": n.id, onclick: () => openReport(n.id) },
        el("td", {}, D.fmtTime(n.sent_at || n.created_at)),
        el("td", {}, n.urgent ? el("span", { class: "tag nt-urgent-tag" }, t("nt_urgent_tag")) : "", " ", title(n)),
        el("td", { class: "nt-target-text" }, targetText(n.target)),
        el("td", {}, t("nt_status_" + n.status)),
        el("td", { class: "nt-counts" }, countsText(n.counts)),
        el("td", {}, n.status !== "sent" && isAdmin() ? el("button", { type: "button", class: "secondary",
          onclick: (ev) => { ev.stopPropagation(); sendDraft(n); } }, t("nt_send_draft")) : ""))));
      if (!st.notices.length) tbody.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, t("nt_none"))));
    } catch (e) { tbody.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "error" }, t("error") + e.message))); }
  }
  async function openReport(id) {
    st.selected = id;
    try { showReport((await D.api(`/api/notices/${id}`)).notice); } catch (e) { D.showError(e); }
  }
  function showReport(notice) {
    const box = $("#notice-report");
    const counts = notice.report.counts;
    box.hidden = false;
    box.replaceChildren(
      el("h2", {}, `${t("nt_report")} · #${notice.id} ${title(notice)}`),
      el("p", { class: "muted" }, `${targetText(notice.target)} · ${t("nt_status_" + notice.status)}${notice.sent_by ? " · " + notice.sent_by : ""}`),
      el("div", { class: "nt-body" }, el("p", {}, notice.body_zh), el("p", {}, notice.body_en)),
      el("ul", { class: "nt-report-counts" }, ...COUNTS.concat(counts.unknown ? ["unknown"] : [], ["total"]).map((k) =>
        el("li", { class: "nt-c-" + k, "data-count": counts[k] || 0 }, el("strong", {}, String(counts[k] || 0)), " ", t("nt_c_" + k)))),
      el("table", { id: "notice-recipients" }, el("thead", {}, el("tr", {},
        ...["nt_col_resident", "nt_col_channel", "nt_col_language", "nt_col_status", "nt_col_reason"].map((k) => el("th", {}, t(k))))),
      el("tbody", {}, ...notice.report.recipients.map((r) => el("tr", { class: "nt-st-" + r.status },
        el("td", { class: "rp-id" }, r.platform_id), el("td", {}, el("span", { class: "tag" }, t(CHANNELS[r.channel] || r.channel))),
        el("td", {}, t("nt_lang_" + r.language)), el("td", {}, t("nt_c_" + r.status)),
        el("td", { class: "reason" }, r.reason === "opted_out" ? t("nt_reason_opted_out") : (r.reason || "-")))))));
    box.scrollIntoView({ block: "nearest" });
  }

  async function load() {
    if (!st.built || st.role !== (D.me() || {}).role) build();
    await Promise.all([loadList(), loadBuildings()]);
  }
  function rerender() { st.built = false; load(); }

  D.view("notices", { load, rerender });
  D.on("start", () => { st.built = false; st.selected = null; });
})();
