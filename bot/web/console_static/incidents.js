/* Linli desk: incidents and early warning (预警); registers with window.LinliDesk (see console.js).
 *
 * - The incidents view (#view-incidents): declare an incident (editors and admins: kind, buildings
 *   or the whole community, bilingual title and description, start and expected end), the active
 *   ones with "resolve" (a note; every resident who asked or reported is told on their channel),
 *   and the recently resolved ones (GET/POST /api/incidents, POST /api/incidents/<id>/resolve).
 * - Early warning: open alerts (GET /api/incidents/alerts, every 10 s while logged in) show as a
 *   banner on the queue view and a badge on the nav button, with a browser notification for a new
 *   one (when alerts.js got the permission); "declare" opens the form pre-filled from the alert's
 *   proposal (POST /api/incidents/alerts/<id>/declare), "dismiss" closes it.
 * - The dashboard gets a card "rising today" (GET /api/stats/rising): categories and buildings
 *   with more repair tickets today than their mean of the previous 7 days.
 */
"use strict";
(function () {
  const D = window.LinliDesk;
  const { el, $, t } = D;
  const KINDS = ["water", "power", "lift", "gas", "network", "other"];
  const ALERT_POLL_MS = 10000;

  D.strings({
    zh: {
      nav_incidents: "事件", inc_declare_title: "宣布事件（停水、停电、电梯检修……）", inc_kind: "类型",
      ik_water: "停水", ik_power: "停电", ik_lift: "电梯", ik_gas: "燃气", ik_network: "网络", ik_other: "其他",
      inc_buildings: "楼栋（逗号分隔）", inc_community: "全小区", inc_title_zh: "标题（中文）", inc_title_en: "标题（英文）",
      inc_desc_zh: "说明（中文）", inc_desc_en: "说明（英文）", inc_starts: "开始时间", inc_ends: "预计恢复",
      inc_submit: "宣布", inc_submit_alert: "根据预警宣布", inc_cancel_alert: "不按预警", inc_active: "进行中的事件",
      inc_resolved: "最近已恢复", inc_none_active: "目前没有进行中的事件", inc_none_resolved: "暂无",
      inc_scope: "范围", inc_title: "标题", inc_period: "时间", inc_linked: "居民（询问/报修）", inc_note: "恢复说明",
      inc_resolve: "标记恢复", inc_resolved_at: "恢复于", inc_notified: "已通知 {n} 位居民", inc_editors_only: "只有编辑或管理员可以宣布事件",
      inc_declared: "已宣布：", inc_confirm_resolve: "标记为已恢复？询问或报修过的居民会收到通知。", inc_unknown_end: "待定",
      inc_alerts: "预警", inc_alert_text: "预警：{building}号楼 {category} {hours}小时内 {count} 条报修",
      inc_alert_declare: "宣布事件", inc_alert_dismiss: "忽略", inc_no_alerts: "暂无预警", inc_notify_alert: "报修预警",
      inc_from_alert: "来自预警 #{id}", kd_incident: "事件通知",
      dash_rising: "今日上升的报修（对比前7天日均）", rising_category: "类别", rising_building: "楼栋", rising_today: "今日",
      rising_average: "前7天日均", rising_ratio: "倍数", rising_none: "今日没有明显上升的类别或楼栋", rising_new: "新出现",
    },
    en: {
      nav_incidents: "Incidents", inc_declare_title: "Declare an incident (water, power, lift works…)", inc_kind: "Kind",
      ik_water: "Water", ik_power: "Power", ik_lift: "Lift", ik_gas: "Gas", ik_network: "Network", ik_other: "Other",
      inc_buildings: "Buildings (comma-separated)", inc_community: "Whole community", inc_title_zh: "Title (Chinese)",
      inc_title_en: "Title (English)", inc_desc_zh: "Description (Chinese)", inc_desc_en: "Description (English)",
      inc_starts: "Starts", inc_ends: "Expected end", inc_submit: "Declare", inc_submit_alert: "Declare from alert",
      inc_cancel_alert: "Not from the alert", inc_active: "Active incidents", inc_resolved: "Recently resolved",
      inc_none_active: "No active incidents", inc_none_resolved: "None yet", inc_scope: "Scope", inc_title: "Title",
      inc_period: "Time", inc_linked: "Residents (asked/reported)", inc_note: "Resolution note", inc_resolve: "Resolve",
      inc_resolved_at: "Resolved", inc_notified: "{n} resident(s) notified", inc_editors_only: "Only editors and admins declare incidents",
      inc_declared: "Declared: ", inc_confirm_resolve: "Mark as resolved? Residents who asked or reported will be told.",
      inc_unknown_end: "not known", inc_alerts: "Early warning",
      inc_alert_text: "Early warning: building {building}, {category}: {count} reports within {hours} h",
      inc_alert_declare: "Declare incident", inc_alert_dismiss: "Dismiss", inc_no_alerts: "No alerts",
      inc_notify_alert: "Early warning", inc_from_alert: "from alert #{id}", kd_incident: "incident update",
      dash_rising: "Rising today (vs the previous 7 days' mean)", rising_category: "Category", rising_building: "Building",
      rising_today: "Today", rising_average: "Mean/day", rising_ratio: "Ratio", rising_none: "Nothing is rising today", rising_new: "new",
    },
  });

  const fill = (text, values) => Object.entries(values).reduce((s, [k, v]) => s.replace(`{${k}}`, v), text);
  const canDeclare = () => !!D.me() && ["editor", "admin"].includes(D.me().role);
  const kindName = (k) => t("ik_" + k);
  const titleOf = (i) => (D.lang() === "en" ? i.title_en || i.title_zh : i.title_zh || i.title_en) || "";
  const scopeOf = (i) => (i.community_wide ? t("inc_community") : i.buildings.map((b) => (D.lang() === "en" ? "Building " + b : b + "号楼")).join(D.lang() === "en" ? ", " : "、"));
  const isoOf = (value) => (value ? new Date(value).toISOString() : null); // datetime-local is the browser's time
  const localInput = (date) => { const d = new Date(date.getTime() - date.getTimezoneOffset() * 60000); return d.toISOString().slice(0, 16); };

  // ------------------------------------------------------------ the incidents view
  let lastIncidents = null;
  let fromAlert = null;      // the alert whose proposal the form shows
  let built = false;

  function build() {
    if (built) return;
    built = true;
    const field = (key, input) => el("label", {}, el("span", { "data-inc": key }, t(key)), input);
    const form = el("form", { id: "incident-form", class: "incident-form", onsubmit: submit },
      el("p", { id: "incident-alert-note", class: "muted", hidden: "hidden" }),
      el("div", { class: "inc-row" },
        field("inc_kind", el("select", { name: "kind" }, ...KINDS.map((k) => el("option", { value: k }, kindName(k))))),
        field("inc_buildings", el("input", { name: "buildings", size: 10, placeholder: "3, 5" })),
        el("label", { class: "inc-check" }, el("input", { type: "checkbox", name: "community_wide" }), el("span", { "data-inc": "inc_community" }, t("inc_community"))),
        field("inc_starts", el("input", { type: "datetime-local", name: "starts_at" })),
        field("inc_ends", el("input", { type: "datetime-local", name: "expected_end_at" }))),
      el("div", { class: "inc-row" },
        field("inc_title_zh", el("input", { name: "title_zh", maxlength: 200 })),
        field("inc_title_en", el("input", { name: "title_en", maxlength: 200 }))),
      el("div", { class: "inc-row" },
        field("inc_desc_zh", el("textarea", { name: "description_zh", rows: 2 })),
        field("inc_desc_en", el("textarea", { name: "description_en", rows: 2 }))),
      el("div", { class: "inc-row" },
        el("button", { type: "submit", id: "incident-submit" }, t("inc_submit")),
        el("button", { type: "button", id: "incident-clear-alert", class: "secondary", hidden: "hidden", onclick: () => prefill(null) }, t("inc_cancel_alert")),
        el("span", { id: "incident-result", class: "muted", role: "status" })),
      el("p", { id: "incident-error", class: "error", role: "alert" }));
    $("#view-incidents").replaceChildren(
      el("div", { class: "card", id: "incident-alerts-card" }, el("h2", { "data-inc": "inc_alerts" }, t("inc_alerts")), el("div", { id: "incident-alerts" })),
      el("div", { class: "card", id: "incident-declare-card" }, el("h2", { "data-inc": "inc_declare_title" }, t("inc_declare_title")),
        el("p", { id: "incident-editors-only", class: "muted", hidden: "hidden" }, t("inc_editors_only")), form),
      el("div", { class: "card" }, el("h2", { "data-inc": "inc_active" }, t("inc_active")), el("div", { id: "incident-active" })),
      el("div", { class: "card" }, el("h2", { "data-inc": "inc_resolved" }, t("inc_resolved")), el("div", { id: "incident-resolved" })));
  }

  function relabel() {
    document.querySelectorAll("#view-incidents [data-inc]").forEach((n) => { n.textContent = t(n.dataset.inc); });
    const kind = $("#incident-form select[name=kind]");
    if (kind) Array.from(kind.options).forEach((o) => { o.textContent = kindName(o.value); });
    const submitButton = $("#incident-submit");
    if (submitButton) submitButton.textContent = fromAlert ? t("inc_submit_alert") : t("inc_submit");
    const clear = $("#incident-clear-alert");
    if (clear) clear.textContent = t("inc_cancel_alert");
  }

  function formData() {
    const f = $("#incident-form");
    const wide = f.elements.community_wide.checked;
    const data = { kind: f.elements.kind.value, community_wide: wide,
      buildings: wide ? [] : f.elements.buildings.value.split(/[,，、\s]+/).filter(Boolean) };
    ["title_zh", "title_en", "description_zh", "description_en"].forEach((k) => { if (f.elements[k].value.trim()) data[k] = f.elements[k].value.trim(); });
    ["starts_at", "expected_end_at"].forEach((k) => { if (f.elements[k].value) data[k] = isoOf(f.elements[k].value); });
    return data;
  }

  async function submit(ev) {
    ev.preventDefault();
    $("#incident-error").textContent = "";
    try {
      const path = fromAlert ? `/api/incidents/alerts/${fromAlert.id}/declare` : "/api/incidents";
      const data = await D.api(path, { method: "POST", body: formData() });
      $("#incident-result").textContent = t("inc_declared") + titleOf(data.incident);
      $("#incident-form").reset();
      prefill(null);
      await Promise.all([load(), pollAlerts()]);
    } catch (e) { $("#incident-error").textContent = t("error") + e.message; }
  }

  /** Fill the form from an alert's proposal (null: an empty form). */
  function prefill(alert) {
    build();
    fromAlert = alert;
    const f = $("#incident-form");
    const note = $("#incident-alert-note");
    $("#incident-clear-alert").hidden = !alert;
    note.hidden = !alert;
    if (alert) {
      const p = alert.proposal;
      f.elements.kind.value = p.kind;
      f.elements.buildings.value = p.buildings.join(", ");
      f.elements.community_wide.checked = !!p.community_wide;
      f.elements.title_zh.value = p.title_zh || "";
      f.elements.title_en.value = p.title_en || "";
      f.elements.starts_at.value = localInput(new Date(alert.first_ticket_at));
      note.textContent = `${alertText(alert)} · ${fill(t("inc_from_alert"), { id: alert.id })}`;
    }
    relabel();
  }

  function incidentRow(i) {
    const period = `${D.fmtTime(i.starts_at)} → ${i.status === "resolved" ? D.fmtTime(i.resolved_at) : (i.expected_end_at ? D.fmtTime(i.expected_end_at) : t("inc_unknown_end"))}`;
    const linked = `${i.links.asked || 0} / ${i.links.reported || 0}`;
    const cells = [el("td", {}, el("span", { class: "tag ik-" + i.kind }, kindName(i.kind))), el("td", {}, scopeOf(i)),
      el("td", { class: "desc" }, titleOf(i)), el("td", {}, period), el("td", { class: "num" }, linked)];
    if (i.status === "active") {
      const note = el("input", { class: "inc-note", placeholder: t("inc_note"), maxlength: 2000 });
      const button = el("button", { class: "inc-resolve", disabled: canDeclare() ? null : "disabled",
        title: canDeclare() ? null : t("inc_editors_only"), onclick: () => resolve(i, note) }, t("inc_resolve"));
      cells.push(el("td", { class: "inc-actions" }, note, button));
    } else {
      cells.push(el("td", { class: "muted" }, i.resolution_note || ""));
    }
    return el("tr", { class: "incident-row st-" + i.status, "data-id": i.id }, ...cells);
  }

  function table(rows, empty, last) {
    if (!rows.length) return el("p", { class: "muted" }, t(empty));
    return el("table", { class: "compact incident-table" },
      el("thead", {}, el("tr", {}, ...["inc_kind", "inc_scope", "inc_title", "inc_period", "inc_linked", last].map((k) => el("th", {}, t(k))))),
      el("tbody", {}, ...rows.map(incidentRow)));
  }

  function renderIncidents() {
    if (!lastIncidents) return;
    const active = lastIncidents.filter((i) => i.status === "active");
    const resolved = lastIncidents.filter((i) => i.status === "resolved").slice(0, 20);
    $("#incident-active").replaceChildren(table(active, "inc_none_active", "inc_resolve"));
    $("#incident-resolved").replaceChildren(table(resolved, "inc_none_resolved", "inc_note"));
  }

  async function resolve(incident, note) {
    if (!window.confirm(t("inc_confirm_resolve"))) return;
    try {
      const data = await D.api(`/api/incidents/${incident.id}/resolve`, { method: "POST", body: { note: note.value } });
      $("#incident-result").textContent = `${titleOf(data.incident)}: ${fill(t("inc_notified"), { n: data.notified })}`;
      await load();
    } catch (e) { $("#incident-error").textContent = t("error") + e.message; }
  }

  async function load() {
    if (!D.me()) return;
    build();
    $("#incident-form").hidden = !canDeclare();
    $("#incident-editors-only").hidden = canDeclare();
    try {
      lastIncidents = (await D.api("/api/incidents?limit=100")).incidents;
      renderIncidents();
    } catch (e) { if (e.message !== "unauthenticated") $("#incident-active").replaceChildren(el("p", { class: "error" }, t("error") + e.message)); }
    renderAlerts();
    relabel();
    $("#view-incidents").dataset.loaded = String(Date.now());
  }

  // ------------------------------------------------------------ early-warning alerts
  let alerts = [];
  const announced = new Set();
  let baseline = false;
  let alertTimer = null;
  const banner = el("div", { id: "incident-alert-banner", class: "incident-alert-banner", role: "alert", hidden: "hidden" });
  const queueView = $("#view-queue");
  queueView.prepend(banner);

  const alertText = (a) => fill(t("inc_alert_text"), { building: a.building, category: D.lbl(a.category), count: a.ticket_count,
    hours: alertHours });
  let alertHours = 2;

  function alertItem(a) {
    return el("div", { class: "incident-alert", "data-id": a.id },
      el("span", { class: "tag warn" }, "⚠"), el("span", { class: "inc-alert-text" }, alertText(a)),
      el("span", { class: "muted" }, ` · ${a.ticket_numbers.join(", ")}`),
      canDeclare() ? el("button", { class: "inc-alert-declare", onclick: () => { D.show("incidents"); prefill(a); } }, t("inc_alert_declare")) : "",
      canDeclare() ? el("button", { class: "secondary inc-alert-dismiss", onclick: () => dismiss(a) }, t("inc_alert_dismiss")) : "");
  }

  function renderAlerts() {
    banner.hidden = alerts.length === 0;
    banner.replaceChildren(...alerts.map(alertItem));
    const list = $("#incident-alerts");
    if (list) list.replaceChildren(...(alerts.length ? alerts.map(alertItem) : [el("p", { class: "muted" }, t("inc_no_alerts"))]));
    const nav = document.querySelector("#nav button[data-view='incidents']");
    if (nav) {
      let badge = nav.querySelector(".badge");
      if (!badge) { badge = el("span", { class: "badge" }); nav.append(" ", badge); }
      badge.textContent = alerts.length ? String(alerts.length) : "";
    }
  }

  function notify(a) {
    const N = window.Notification;
    if (!N || N.permission !== "granted") return;
    try {
      const note = new N(t("inc_notify_alert"), { body: alertText(a), tag: "linli-incident-alert-" + a.id, lang: D.lang() === "zh" ? "zh-CN" : "en" });
      note.onclick = () => { window.focus(); D.show("incidents"); note.close(); };
    } catch (e) { /* notifications unavailable: the banner remains */ }
  }

  async function pollAlerts() {
    if (!D.me()) return;
    try {
      const data = await D.api("/api/incidents/alerts");
      alerts = data.alerts;
      alertHours = data.cluster_hours;
    } catch (e) { return; }
    alerts.filter((a) => !announced.has(a.id)).forEach((a) => { announced.add(a.id); if (baseline) notify(a); });
    baseline = true;
    renderAlerts();
  }

  async function dismiss(a) {
    try { await D.api(`/api/incidents/alerts/${a.id}/dismiss`, { method: "POST", body: {} }); }
    catch (e) { window.alert(t("error") + e.message); }
    if (fromAlert && fromAlert.id === a.id) prefill(null);
    await pollAlerts();
  }

  // ------------------------------------------------------------ the dashboard's rising card
  let lastRising = null;
  function risingTable(rows, key) {
    return el("table", { class: "compact rising-table", "data-dimension": key },
      el("thead", {}, el("tr", {}, ...[key === "category" ? "rising_category" : "rising_building", "rising_today", "rising_average", "rising_ratio"].map((k) => el("th", {}, t(k))))),
      el("tbody", {}, ...rows.map((r) => el("tr", { class: r.rising ? "rising" : "", "data-key": r[key] },
        el("td", {}, key === "category" ? D.lbl(r.category) : (D.lang() === "en" ? "Building " + r.building : r.building + "号楼")),
        el("td", { class: "num" }, String(r.today)), el("td", { class: "num" }, String(r.average)),
        el("td", { class: "num" }, r.ratio == null ? (r.today ? t("rising_new") : "-") : `×${r.ratio}`)))));
  }
  function drawRising() {
    const box = $("#rising");
    if (!box || !lastRising) return;
    const cats = lastRising.categories.filter((r) => r.today > 0).slice(0, 8);
    const blds = lastRising.buildings.filter((r) => r.today > 0).slice(0, 8);
    const anyRising = lastRising.rising.categories.length + lastRising.rising.buildings.length > 0;
    box.replaceChildren(
      anyRising ? "" : el("p", { class: "muted rising-none" }, t("rising_none")),
      el("div", { class: "two-col" }, cats.length ? risingTable(cats, "category") : "", blds.length ? risingTable(blds, "building") : ""));
  }
  async function loadRising() {
    if (!D.me()) return;
    let card = $("#rising-card");
    if (!card) {
      card = el("div", { class: "card wide", id: "rising-card" }, el("h2", { "data-inc": "dash_rising" }, t("dash_rising")), el("div", { id: "rising", class: "chart-box" }));
      const grid = $("#view-dashboards .grid");
      if (!grid) return;
      // After the tickets-per-day chart: the dashboard's first card stays the day-by-day overview.
      if (grid.firstElementChild) grid.firstElementChild.after(card); else grid.append(card);
    }
    card.querySelector("h2").textContent = t("dash_rising");
    try { lastRising = await D.api("/api/stats/rising?days=7"); drawRising(); }
    catch (e) { if (e.message !== "unauthenticated") $("#rising").replaceChildren(el("p", { class: "error" }, t("error") + e.message)); }
  }
  const dashboards = $("#view-dashboards");
  if (dashboards) {
    // dashboards.js owns that view's hooks: load this card whenever the view is shown.
    new MutationObserver(() => { if (!dashboards.hidden) loadRising(); }).observe(dashboards, { attributes: true, attributeFilter: ["hidden"] });
    setInterval(() => { if (!dashboards.hidden && !document.hidden && D.me()) loadRising(); }, 60000);
  }

  // ------------------------------------------------------------ wiring
  D.view("incidents", { load, rerender: () => { renderIncidents(); renderAlerts(); relabel(); } });
  D.on("start", () => {
    baseline = false;
    pollAlerts();
    clearInterval(alertTimer);
    alertTimer = setInterval(pollAlerts, ALERT_POLL_MS);
  });
  D.on("lang", () => { renderAlerts(); relabel(); renderIncidents(); if (lastRising) { const c = $("#rising-card h2"); if (c) c.textContent = t("dash_rising"); drawRising(); } });
  $("#logout").addEventListener("click", () => { clearInterval(alertTimer); alerts = []; baseline = false; renderAlerts(); });
  D.incidents = { alerts: () => alerts, prefill };
})();
