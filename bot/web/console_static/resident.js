/* The resident panel beside the open conversation; registers with window.LinliDesk (see console.js).
 *
 * Shows who the resident is from Linli's own records (GET /api/residents/<channel:platform id>):
 * channel, the units of their tickets, phone numbers masked, past tickets (click one to open
 * it) and past handoffs. Collapsible (remembered), so the transcript keeps its width on a
 * 1366-pixel screen. Each view is written to the audit log by the server.
 * "Residence": the units the resident stated (and confirmed), staff added or their tickets name,
 * with their source; staff add one (POST .../units) or remove one (DELETE .../units/<key>).
 */
"use strict";
(function () {
  const D = window.LinliDesk;
  const { el, $, t } = D;

  D.strings({
    zh: {
      rp_title: "居民信息", rp_collapse: "收起居民信息", rp_expand: "展开居民信息", rp_units: "房号/地点", rp_phones: "电话",
      rp_language: "语言", rp_tickets: "历史工单", rp_handoffs: "人工服务记录", rp_open: "未完成", rp_none: "无",
      rp_current: "当前", rp_loading: "正在加载…", rp_unknown: "暂无该居民的工单或记录", rp_more: "另有 {n} 条未列出",
      rp_lang_zh: "中文", rp_lang_en: "英文",
      rp_residence: "住址", rp_src_stated: "本人确认", rp_src_staff: "工作人员添加", rp_src_ticket: "工单",
      rp_unit_add: "添加", rp_unit_placeholder: "如 3栋2单元502", rp_unit_remove: "移除", rp_unit_confirm_remove: "移除住址 {u}？",
      rp_notices_off: "已退订非紧急通知",
    },
    en: {
      rp_title: "Resident", rp_collapse: "Collapse the resident panel", rp_expand: "Show the resident panel", rp_units: "Units / places",
      rp_phones: "Phone", rp_language: "Language", rp_tickets: "Tickets", rp_handoffs: "Handoffs", rp_open: "open", rp_none: "none",
      rp_current: "current", rp_loading: "Loading…", rp_unknown: "No tickets or records of this resident yet", rp_more: "{n} more not listed",
      rp_lang_zh: "Chinese", rp_lang_en: "English",
      rp_residence: "Lives at", rp_src_stated: "confirmed by the resident", rp_src_staff: "added by staff", rp_src_ticket: "ticket",
      rp_unit_add: "Add", rp_unit_placeholder: "e.g. 3-2-502", rp_unit_remove: "Remove", rp_unit_confirm_remove: "Remove {u}?",
      rp_notices_off: "Opted out of non-urgent notices",
    },
  });

  const panel = $("#resident-panel");
  const conversation = $("#conversation");
  const STORAGE = "linli_resident_panel";
  let collapsed = localStorage.getItem(STORAGE) === "collapsed";
  let state = null;            // { handoff, profile, error }
  let token = 0;               // drops answers for a conversation no longer shown

  const day = (iso) => (iso ? new Date(iso).toLocaleDateString(D.lang() === "zh" ? "zh-CN" : "en-GB") : "-");
  const platformId = (sender, channel) => (sender.startsWith(channel + ":") ? sender.slice(channel.length + 1) : sender);

  function setCollapsed(value) {
    collapsed = value;
    localStorage.setItem(STORAGE, value ? "collapsed" : "open");
    render();
  }
  function more(shown, total) { return total > shown ? el("li", { class: "muted" }, t("rp_more").replace("{n}", total - shown)) : ""; }
  function section(key, items, count) {
    return [el("h4", {}, t(key), count !== undefined ? el("span", { class: "muted" }, ` (${count})`) : ""),
      items.length ? el("ul", { class: "rp-list" }, ...items) : el("p", { class: "muted" }, t("rp_none"))];
  }
  function body(handoff, profile) {
    const id = platformId(handoff.sender_id, handoff.channel);
    const head = el("div", { class: "row" }, el("span", { class: "tag" }, handoff.channel), el("span", { class: "rp-id", title: handoff.sender_id }, id));
    if (!profile) return [head, el("p", { class: "muted" }, state && state.error ? state.error : t("rp_loading"))];
    const openCount = profile.open_tickets ? ` · ${t("rp_open")} ${profile.open_tickets}` : "";
    const tickets = profile.tickets.map((tk) => el("li", { class: "rp-ticket", "data-number": tk.number },
      el("div", { class: "row" }, el("a", { href: "#tickets", class: "rp-ticket-link", onclick: (ev) => { ev.preventDefault(); D.openTicket(tk.number); } }, tk.number),
        el("span", { class: "tag st-" + tk.status }, D.lbl(tk.status))),
      el("div", { class: "muted rp-summary", title: tk.summary || "" }, [day(tk.created_at), tk.unit || tk.location, tk.summary].filter(Boolean).join(" · "))));
    const handoffs = profile.handoffs.map((h) => el("li", { class: h.id === handoff.id ? "rp-current" : "" },
      h.id === handoff.id ? el("span", { class: "tag" }, t("rp_current")) : "",
      `${day(h.created_at)} · ${t("st_" + h.status)} · ${t("rs_" + h.reason)}`, h.agent_name || h.agent ? ` · ${h.agent_name || h.agent}` : ""));
    return [
      head,
      residence(handoff, profile),
      el("dl", {},
        el("dt", {}, t("rp_units")), el("dd", { class: "rp-units" }, profile.units.length ? profile.units.join("、") : t("rp_none")),
        el("dt", {}, t("rp_phones")), el("dd", { class: "rp-phones" }, profile.phones.length ? profile.phones.join("、") : t("rp_none")),
        el("dt", {}, t("rp_language")), el("dd", {}, profile.language ? t("rp_lang_" + profile.language) : "-")),
      ...section("rp_tickets", tickets.concat(more(profile.tickets.length, profile.tickets_total)).filter(Boolean),
        `${profile.tickets_total}${openCount}`),
      ...section("rp_handoffs", handoffs.concat(more(profile.handoffs.length, profile.handoffs_total)).filter(Boolean), profile.handoffs_total),
    ];
  }
  function residence(handoff, profile) {
    const units = (profile.residence || []).map((u) => el("li", { class: "rp-unit", "data-key": u.key, "data-source": u.source },
      el("span", {}, D.lang() === "en" ? u.unit_en : u.unit), " ",
      el("span", { class: "tag rp-src" }, t("rp_src_" + u.source) + (u.ticket ? ` ${u.ticket}` : "")), " ",
      el("button", { type: "button", class: "secondary rp-unit-remove", onclick: () => removeUnit(handoff, u) }, t("rp_unit_remove"))));
    const input = el("input", { class: "rp-unit-input", size: "12", placeholder: t("rp_unit_placeholder") });
    const problem = el("p", { class: "error rp-unit-error", role: "alert" });
    const form = el("form", { class: "rp-unit-form row", onsubmit: async (ev) => {
      ev.preventDefault();
      problem.textContent = "";
      try {
        await D.api(`/api/residents/${encodeURIComponent(handoff.sender_id)}/units`, { method: "POST", body: { unit: input.value } });
        load(handoff);
      } catch (e) { problem.textContent = t("error") + e.message; }
    } }, input, el("button", { type: "submit", class: "secondary" }, t("rp_unit_add")));
    return el("div", { class: "rp-residence" }, el("h4", {}, t("rp_residence")),
      units.length ? el("ul", { class: "rp-list" }, ...units) : el("p", { class: "muted" }, t("rp_none")),
      profile.notices_subscribed === false ? el("p", { class: "muted rp-notices-off" }, t("rp_notices_off")) : "",
      form, problem);
  }
  async function removeUnit(handoff, unit) {
    if (!confirm(t("rp_unit_confirm_remove").replace("{u}", unit.unit))) return;
    try {
      await D.api(`/api/residents/${encodeURIComponent(handoff.sender_id)}/units/${encodeURIComponent(unit.key)}`, { method: "DELETE", body: {} });
    } catch (e) { D.showError(e); }
    load(handoff);
  }
  function render() {
    if (!state) return;
    panel.hidden = false;
    conversation.classList.add("with-panel");
    conversation.classList.toggle("panel-collapsed", collapsed);
    panel.classList.toggle("collapsed", collapsed);
    const toggle = el("button", { type: "button", class: "rp-toggle secondary", "aria-expanded": collapsed ? "false" : "true",
      title: t(collapsed ? "rp_expand" : "rp_collapse"), "aria-label": t(collapsed ? "rp_expand" : "rp_collapse"),
      onclick: () => setCollapsed(!collapsed) }, collapsed ? "«" : "»");
    panel.replaceChildren(el("div", { class: "rp-head" }, el("h3", {}, t("rp_title")), toggle),
      el("div", { class: "rp-body" }, ...body(state.handoff, state.profile)));
  }
  async function load(handoff) {
    const mine = ++token;
    if (!state || state.handoff.sender_id !== handoff.sender_id) state = { handoff, profile: null };
    else state.handoff = handoff;
    render();
    try {
      const data = await D.api(`/api/residents/${encodeURIComponent(handoff.sender_id)}`);
      if (mine === token) { state = { handoff, profile: data.resident }; render(); }
    } catch (e) {
      if (mine !== token) return;
      state = { handoff, profile: null, error: /no ticket or handoff/i.test(e.message) ? t("rp_unknown") : t("error") + e.message };
      render();
    }
  }

  D.on("conversation", (handoff) => { load(handoff); });
  D.on("lang", () => render());
  D.on("start", () => { state = null; panel.hidden = true; conversation.classList.remove("with-panel"); });
})();
