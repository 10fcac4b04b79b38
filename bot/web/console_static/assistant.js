/* Staff assistant: front-desk staff chat with Linli (POST /api/assistant/messages, docs/api.md).
 *
 * In the desk it is the "助手 / Assistant" view (registered with window.LinliDesk); alone, at
 * /console/assistant (assistant.html, for an intranet page), it brings its own login and the
 * few helpers it needs. Filing for a caller shows the pre-filled repair card: staff correct
 * it, choose phone or walk-in, and confirm (POST /api/assistant/repairs); nothing is filed
 * before that. Ticket numbers open the ticket page (in the desk) or the desk (alone).
 */
"use strict";
(function () {
  const STRINGS = {
    zh: {
      nav_assistant: "助手", at_title: "工作人员助手", at_placeholder: "例如：给3栋2单元502登记报修，厨房水管漏水，业主电话13812345678，不急",
      at_send: "发送", at_you: "我", at_bot: "助手", at_thinking: "…",
      at_intro: "代来电/来访业主登记报修、查询楼栋未处理工单、查工单状态、统计、回答规章制度问题。",
      at_card: "报修登记", at_description: "问题描述", at_place: "位置", at_phone: "电话", at_urgency: "紧急程度",
      at_category: "类别", at_visit: "上门时间", at_channel: "渠道", at_language: "业主语言", at_file: "确认登记", at_cancel: "取消",
      at_cancelled: "已取消，未登记。", at_phone_ch: "电话", at_walkin: "到访", at_normal: "一般", at_urgent: "紧急",
      at_sources: "出处", at_err_required: "必填", at_err_place_unknown: "无法识别的位置", at_err_place_missing_building: "缺少楼栋",
      at_err_place_missing_room: "缺少房号", at_err_phone_invalid: "电话号码无效", at_err_category_unknown: "未知类别",
      at_err_urgency_unknown: "未知紧急程度", at_err_channel_unknown: "未知渠道", at_login: "登录", at_username: "用户名",
      at_password: "密码", at_login_failed: "用户名或密码错误", at_error: "出错了：",
      cat_plumbing: "水管/漏水", cat_electrical: "电路/照明", cat_elevator: "电梯", cat_doors_locks: "门窗/门锁",
      cat_public_area: "公共区域", cat_appliance: "家电设备", cat_other: "其他",
    },
    en: {
      nav_assistant: "Assistant", at_title: "Staff assistant",
      at_placeholder: "e.g. file a repair for building 3 unit 2 room 502, kitchen pipe leaking, phone 13812345678, not urgent",
      at_send: "Send", at_you: "Me", at_bot: "Assistant", at_thinking: "…",
      at_intro: "File repairs for callers and walk-ins, list open tickets of a building, check a ticket, count tickets, answer regulation questions.",
      at_card: "Repair for a caller", at_description: "Description", at_place: "Place", at_phone: "Phone", at_urgency: "Urgency",
      at_category: "Category", at_visit: "Visit time", at_channel: "Channel", at_language: "Resident's language", at_file: "File it",
      at_cancel: "Cancel", at_cancelled: "Cancelled; nothing was filed.", at_phone_ch: "phone", at_walkin: "walk-in",
      at_normal: "normal", at_urgent: "urgent", at_sources: "Sources", at_err_required: "required",
      at_err_place_unknown: "place not recognised", at_err_place_missing_building: "building missing",
      at_err_place_missing_room: "room missing", at_err_phone_invalid: "not a phone number", at_err_category_unknown: "unknown category",
      at_err_urgency_unknown: "unknown urgency", at_err_channel_unknown: "unknown channel", at_login: "Log in", at_username: "Username",
      at_password: "Password", at_login_failed: "Wrong username or password", at_error: "Error: ",
      cat_plumbing: "plumbing", cat_electrical: "electrical", cat_elevator: "elevator", cat_doors_locks: "doors and locks",
      cat_public_area: "public area", cat_appliance: "appliance", cat_other: "other",
    },
  };
  const CATEGORIES = ["plumbing", "electrical", "elevator", "doors_locks", "public_area", "appliance", "other"];

  // ------------------------------------------------------------ helpers: the desk's, or our own when alone
  function standaloneHelpers() {
    let lang = localStorage.getItem("linli_console_lang") || ((navigator.language || "zh").toLowerCase().startsWith("en") ? "en" : "zh");
    const t = (key) => (STRINGS[lang] && STRINGS[lang][key]) || STRINGS.zh[key] || key;
    const el = (tag, attrs, ...children) => {
      const node = document.createElement(tag);
      Object.entries(attrs || {}).forEach(([k, v]) => {
        if (k === "class") node.className = v;
        else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
        else if (v !== null && v !== undefined) node.setAttribute(k, v);
      });
      children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c))));
      return node;
    };
    // A bearer token too, so the page also works where the browser keeps no cookie for it (a framed page).
    async function api(path, options) {
      const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
      const token = sessionStorage.getItem("linli_assistant_token");
      if (token) opts.headers.Authorization = "Bearer " + token;
      if (opts.body !== undefined && typeof opts.body !== "string") { opts.body = JSON.stringify(opts.body); opts.headers["Content-Type"] = "application/json"; }
      const res = await fetch(path, opts);
      let data = null;
      try { data = await res.json(); } catch (e) { data = null; }
      if (!res.ok) {
        const err = new Error((data && data.message) || res.statusText);
        err.status = res.status; err.code = data && data.error; err.data = data;
        if (res.status === 401 && path !== "/api/login") showLogin();
        throw err;
      }
      return data;
    }
    return { t, el, api, lang: () => lang, setLang: (l) => { lang = l; localStorage.setItem("linli_console_lang", l); },
      openTicket: () => { window.open("/console#tickets", "_blank", "noopener"); } };
    function showLogin() { document.dispatchEvent(new CustomEvent("linli-assistant-login")); }
  }

  // ------------------------------------------------------------ the panel
  function mount(root, H) {
    const { el, t } = H;
    const log = el("div", { id: "assistant-log", class: "assistant-log", "aria-live": "polite" });
    const input = el("textarea", { id: "assistant-input", rows: "2", maxlength: "1000", placeholder: t("at_placeholder") });
    const send = el("button", { id: "assistant-send", type: "submit" }, t("at_send"));
    const form = el("form", { id: "assistant-form", class: "assistant-form" }, input, send);
    const intro = el("p", { class: "muted" }, t("at_intro"));
    const title = el("h2", {}, t("at_title"));
    root.append(el("div", { class: "card assistant-card" }, title, intro, log, form));

    function bubble(who, ...content) {
      const node = el("div", { class: "assistant-msg from-" + who }, el("div", { class: "who" }, t(who === "staff" ? "at_you" : "at_bot")), ...content);
      log.append(node);
      log.scrollTop = log.scrollHeight;
      return node;
    }
    const ticketLink = (tk) => el("a", { href: "#tickets", class: "assistant-ticket", "data-number": tk.number,
      onclick: (ev) => { ev.preventDefault(); H.openTicket(tk.number); } }, tk.number);
    function ticketList(tickets) {
      return el("ul", { class: "assistant-tickets" }, ...tickets.map((tk) => el("li", { "data-number": tk.number }, ticketLink(tk),
        ` · ${(tk.labels && tk.labels.status && tk.labels.status[H.lang()]) || tk.status} · ${tk.location || tk.unit || "-"} · ${tk.description}`)));
    }
    function answerNode(data) {
      const parts = [el("div", { class: "text" }, data.reply)];
      if (data.tickets && data.tickets.length) parts.push(ticketList(data.tickets));
      if (data.answer && data.answer.sources && data.answer.sources.length) {
        parts.push(el("div", { class: "muted assistant-sources" }, `${t("at_sources")}: `, ...data.answer.sources.map((s) => el("span", { class: "tag" }, s))));
      }
      if (data.draft) parts.push(card(data.draft));
      return parts;
    }

    function card(draft) {
      const field = (name, label, control) => el("label", { class: "assistant-field", "data-field": name },
        el("span", {}, t(label)), control, el("span", { class: "error field-error" }));
      const text = (name, value, tag) => el(tag || "input", { name, value: tag ? null : value || "" });
      const select = (name, options, value) => {
        const node = el("select", { name }, ...options.map(([v, label]) => el("option", { value: v }, label)));
        node.value = value || options[0][0];
        return node;
      };
      const description = text("description", "", "textarea");
      description.value = draft.description || "";
      const node = el("form", { class: "assistant-repair", "data-draft": draft.draft_id },
        el("h3", {}, t("at_card")),
        field("description", "at_description", description),
        field("place", "at_place", text("place", draft.place)),
        field("phone", "at_phone", text("phone", draft.phone)),
        field("urgency", "at_urgency", select("urgency", [["normal", t("at_normal")], ["urgent", t("at_urgent")]], draft.urgency || "normal")),
        field("category", "at_category", select("category", CATEGORIES.map((c) => [c, t("cat_" + c)]), draft.category || "other")),
        field("visit_time", "at_visit", text("visit_time", draft.visit_time)),
        field("channel", "at_channel", select("channel", [["phone", t("at_phone_ch")], ["walk-in", t("at_walkin")]], draft.channel)),
        field("language", "at_language", select("language", [["zh", "中文"], ["en", "English"]], draft.language)),
        el("div", { class: "row" }, el("button", { type: "submit", class: "assistant-file" }, t("at_file")),
          el("button", { type: "button", class: "secondary assistant-cancel", onclick: () => { node.replaceWith(el("p", { class: "muted" }, t("at_cancelled"))); } }, t("at_cancel"))),
        el("p", { class: "error assistant-card-error", role: "alert" }));
      const showErrors = (errors) => {
        node.querySelectorAll(".assistant-field").forEach((f) => {
          const code = errors[f.dataset.field];
          f.classList.toggle("invalid", !!code);
          f.querySelector(".field-error").textContent = code ? t("at_err_" + code) : "";
        });
      };
      showErrors(Object.fromEntries((draft.missing || []).map((f) => [f, "required"]).concat(Object.entries(draft.errors || {}))));
      node.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const body = Object.fromEntries(new FormData(node).entries());
        body.draft_id = draft.draft_id;
        body.reply_language = H.lang();
        const button = node.querySelector(".assistant-file");
        button.disabled = true;
        try {
          const data = await H.api("/api/assistant/repairs", { method: "POST", body });
          node.replaceWith(el("div", { class: "assistant-filed", "data-number": data.ticket.number }, data.reply, " ", ticketLink(data.ticket)));
        } catch (e) {
          button.disabled = false;
          if (e.data && e.data.errors) showErrors(e.data.errors);
          node.querySelector(".assistant-card-error").textContent = e.data && e.data.errors ? "" : t("at_error") + e.message;
        }
      });
      return node;
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const message = input.value.trim();
      if (!message) return;
      bubble("staff", el("div", { class: "text" }, message));
      input.value = "";
      const pending = bubble("bot", el("div", { class: "text muted" }, t("at_thinking")));
      send.disabled = true;
      try {
        const data = await H.api("/api/assistant/messages", { method: "POST", body: { text: message, language: H.lang() } });
        pending.dataset.intent = data.intent;
        pending.replaceChildren(el("div", { class: "who" }, t("at_bot")), ...answerNode(data));
      } catch (e) { pending.replaceChildren(el("div", { class: "error" }, t("at_error") + e.message)); }
      send.disabled = false;
      input.focus();
      log.scrollTop = log.scrollHeight;
    });
    input.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); } });
    return { relabel() { title.textContent = t("at_title"); intro.textContent = t("at_intro"); send.textContent = t("at_send"); input.placeholder = t("at_placeholder"); } };
  }

  // ------------------------------------------------------------ in the desk
  const D = window.LinliDesk;
  if (D) {
    D.strings(STRINGS);
    const root = document.getElementById("view-assistant");
    if (!root) return;
    const panel = mount(root, { el: D.el, t: D.t, api: D.api, lang: D.lang, openTicket: D.openTicket });
    D.view("assistant", { load: () => { const box = document.getElementById("assistant-input"); if (box) box.focus(); }, rerender: () => panel.relabel() });
    return;
  }

  // ------------------------------------------------------------ alone: /console/assistant
  const H = standaloneHelpers();
  const root = document.getElementById("assistant-root");
  const { el, t } = H;
  let panel = null;
  function login() {
    const error = el("p", { class: "error", role: "alert" });
    const form = el("form", { id: "assistant-login", class: "card narrow" }, el("h2", {}, t("at_title")),
      el("label", {}, el("span", {}, t("at_username")), el("input", { name: "username", autocomplete: "username", required: "required" })),
      el("label", {}, el("span", {}, t("at_password")), el("input", { name: "password", type: "password", autocomplete: "current-password", required: "required" })),
      el("button", { type: "submit" }, t("at_login")), error);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const data = await H.api("/api/login", { method: "POST", body: Object.fromEntries(new FormData(form).entries()) });
        sessionStorage.setItem("linli_assistant_token", data.token);
        start();
      } catch (e) { error.textContent = t("at_login_failed"); }
    });
    root.replaceChildren(form);
  }
  function start() { root.replaceChildren(); panel = mount(root, H); }
  document.addEventListener("linli-assistant-login", () => { sessionStorage.removeItem("linli_assistant_token"); login(); });
  const toggle = document.getElementById("assistant-lang");
  if (toggle) {
    toggle.textContent = H.lang() === "zh" ? "EN" : "中文";
    toggle.addEventListener("click", () => { H.setLang(H.lang() === "zh" ? "en" : "zh"); toggle.textContent = H.lang() === "zh" ? "EN" : "中文"; document.documentElement.lang = H.lang(); if (panel) panel.relabel(); else login(); });
  }
  document.documentElement.lang = H.lang();
  H.api("/api/me").then(start).catch(login);
})();
