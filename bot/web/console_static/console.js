/* Linli staff desk: vanilla JS over /api (see docs/api.md). No external resources.
 *
 * This file is the desk's core: session, navigation, the handoff queue and conversation,
 * tickets, deliveries and accounts. Each further feature is its own file (dashboards.js
 * drawn with charts.js, alerts.js, kb.js, canned.js, ...) loaded after this one; it
 * registers with window.LinliDesk:
 *   LinliDesk.view(name, { load, rerender, roles })   a <section id="view-NAME"> shown by a nav button
 *   LinliDesk.strings({ zh: {...}, en: {...} })        its texts (data-i18n keys)
 *   LinliDesk.on(event, fn)                           "start" (user), "lang", "conversation" (handoff),
 *                                                     "ticket" (ticket, page node), "queue" (handoffs),
 *                                                     "messages" (handoff, new messages shown),
 *                                                     "reply" (handoff, text sent by the agent)
 * and uses LinliDesk.api / t / el / $ / $$ / lbl / fmtTime / me() / lang().
 */
"use strict";
(function () {
  const views = {};            // registered feature views: name -> { load, rerender, roles }
  const listeners = {};        // event -> [fn]
  function emit(event, ...args) { (listeners[event] || []).forEach((fn) => { try { fn(...args); } catch (e) { console.error(e); } }); }
  // Conversations are "<channel>:<platform id>"; the channel is shown as a tag next to the id.
  function residentId(h) {
    const prefix = h.channel + ":";
    return h.sender_id && h.sender_id.startsWith(prefix) ? h.sender_id.slice(prefix.length) : h.sender_id;
  }

  const I18N = window.LINLI_I18N;
  let lang = localStorage.getItem("linli_console_lang") || ((navigator.language || "zh").toLowerCase().startsWith("en") ? "en" : "zh");
  let me = null;
  let current = null;          // handoff shown in the conversation view
  let lastTs = 0;              // newest message timestamp shown
  let pollToken = 0;           // cancels stale long polls when switching conversation
  let queueTimer = null;

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const t = (key) => (I18N[lang] && I18N[lang][key]) || I18N.zh[key] || key;
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "class") node.className = v;
      else if (k === "style") Object.assign(node.style, v); // CSSOM, allowed by the page's CSP (no inline styles)
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined) node.setAttribute(k, v);
    });
    children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c))));
    return node;
  };

  // ------------------------------------------------------------ API
  async function api(path, options) {
    const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    if (opts.body !== undefined && typeof opts.body !== "string") {
      opts.body = JSON.stringify(opts.body);
      opts.headers["Content-Type"] = "application/json";
    }
    const res = await fetch(path, opts);
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 401 && path !== "/api/login") {
      showLogin(t("session_expired"));
      throw new Error("unauthenticated");
    }
    if (!res.ok) {
      // The error keeps the HTTP status, the API's error code and body (no_text_layer, job_running...).
      const err = new Error((data && data.message) || res.statusText || String(res.status));
      err.status = res.status; err.code = data && data.error; err.data = data;
      throw err;
    }
    return data;
  }

  // ------------------------------------------------------------ i18n
  function applyLang() {
    document.documentElement.lang = lang;
    $$("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
    $$("[data-i18n-placeholder]").forEach((n) => { n.placeholder = t(n.dataset.i18nPlaceholder); });
    $("#lang-toggle").textContent = lang === "zh" ? "EN" : "中文";
    document.title = t("title");
    fillFilterOptions();
  }
  $("#lang-toggle").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("linli_console_lang", lang);
    applyLang();
    emit("lang", lang);
    if (me) { renderQueue(lastQueue); if (current) reloadConversation(); rerenderVisible(); }
  });

  // ------------------------------------------------------------ views
  function show(view) {
    $$(".view").forEach((v) => { v.hidden = v.id !== "view-" + view; });
    $$("#nav button").forEach((b) => b.classList.toggle("active", b.dataset.view === view));
    if (view === "tickets") loadTickets();
    if (view === "users") loadUsers();
    if (view === "deliveries") { deliveryOffset = 0; loadDeliveries(); }
    if (views[view] && views[view].load) views[view].load();
    location.hash = view;
  }
  function rerenderVisible() {
    const visible = $$(".view").find((v) => !v.hidden);
    if (!visible) return;
    const view = visible.id.replace("view-", "");
    if (view === "tickets") { if (!$("#ticket-page").hidden && $("#ticket-page").dataset.number) openTicket($("#ticket-page").dataset.number); else loadTickets(); }
    if (view === "users") loadUsers();
    if (view === "deliveries") loadDeliveries();
    if (views[view]) (views[view].rerender || views[view].load || (() => {}))();
  }
  $$("#nav button").forEach((b) => b.addEventListener("click", () => show(b.dataset.view)));

  function showLogin(message) {
    me = null;
    clearInterval(queueTimer);
    pollToken++;
    $("#nav").hidden = true;
    $("#logout").hidden = true;
    $("#whoami").textContent = "";
    $$(".view").forEach((v) => { v.hidden = v.id !== "view-login"; });
    $("#login-error").textContent = message || "";
  }

  async function start(user) {
    me = user;
    $("#whoami").textContent = `${user.display_name} (${user.role})`;
    $("#nav").hidden = false;
    $("#logout").hidden = false;
    $$("[data-admin]").forEach((n) => { n.hidden = user.role !== "admin"; });
    // data-roles="admin editor": shown only to those roles (the API refuses the others anyway)
    $$("[data-roles]").forEach((n) => { n.hidden = !n.dataset.roles.split(" ").includes(user.role); });
    const wanted = (location.hash || "#queue").slice(1);
    const allowed = ["queue", "tickets", "deliveries", "users"].concat(
      Object.keys(views).filter((v) => !views[v].roles || views[v].roles.includes(user.role)));
    emit("start", user);
    show(allowed.includes(wanted) ? wanted : "queue");
    await loadQueue();
    clearInterval(queueTimer);
    queueTimer = setInterval(loadQueue, 3000);
  }

  $("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("#login-error").textContent = "";
    try {
      const data = await api("/api/login", { method: "POST", body: { username: $("#login-username").value, password: $("#login-password").value } });
      $("#login-password").value = "";
      await start(data.user);
    } catch (e) {
      $("#login-error").textContent = t("login_failed");
    }
  });
  $("#logout").addEventListener("click", async () => {
    try { await api("/api/logout", { method: "POST", body: {} }); } catch (e) { /* already logged out */ }
    showLogin("");
  });

  // ------------------------------------------------------------ queue
  let lastQueue = [];
  const fmtWait = (s) => { const m = Math.floor(s / 60); return m >= 60 ? `${Math.floor(m / 60)}h${m % 60}m` : `${m}:${String(s % 60).padStart(2, "0")}`; };

  async function loadQueue() {
    if (!me) return;
    try {
      const data = await api("/api/handoffs");
      lastQueue = data.handoffs.map((h) => Object.assign(h, { _loadedAt: Date.now() }));
      renderQueue(lastQueue);
    } catch (e) { /* shown by api() on 401; transient errors retry */ }
  }
  function renderQueue(items) {
    const list = $("#queue-list");
    list.replaceChildren();
    items.forEach((h) => {
      const urgent = h.priority === "urgent";
      const li = el("li", { class: "queue-item" + (current && current.id === h.id ? " selected" : "") + " st-" + h.status + (urgent ? " urgent" : ""), "data-id": h.id, onclick: () => openConversation(h.id) },
        el("div", { class: "row" }, urgent ? el("span", { class: "tag urgent-tag" }, t("urgent_tag")) : "", el("strong", {}, residentId(h)), el("span", { class: "tag" }, h.channel), el("span", { class: "tag st" }, t("st_" + h.status))),
        el("div", { class: "row muted" }, el("span", { class: "wait", "data-wait": h.waiting_seconds, "data-status": h.status }, `${t("waiting")} ${fmtWait(h.waiting_seconds)}`),
          el("span", {}, t("rs_" + h.reason)), h.agent ? el("span", {}, t("taken_by") + (h.agent_name || h.agent)) : ""),
        h.last_message ? el("div", { class: "preview" }, h.last_message) : "");
      list.append(li);
    });
    $("#queue-empty").hidden = items.length > 0;
    $("#queue-count").textContent = items.length ? String(items.length) : "";
    emit("queue", items); // alerts.js: new-handoff and emergency alerts
  }
  // Waiting times tick between polls.
  setInterval(() => {
    $$("#queue-list .wait").forEach((n) => {
      if (n.dataset.status !== "queued") return;
      n.dataset.wait = String(Number(n.dataset.wait) + 1);
      n.textContent = `${t("waiting")} ${fmtWait(Number(n.dataset.wait))}`;
    });
  }, 1000);

  // ------------------------------------------------------------ conversation
  function messageNode(m) {
    if (m.from === "system") return el("div", { class: "msg system" }, t(m.event));
    const who = m.from === "agent" ? `${t("from_agent")} ${m.agent || ""}` : t("from_" + m.from);
    const time = new Date(m.ts * 1000).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB");
    return el("div", { class: "msg " + m.from, "data-ts": m.ts },
      el("div", { class: "who" }, `${who} · ${time}`),
      el("div", { class: "text" }, m.text),
      m.buttons ? el("div", { class: "muted" }, "[" + m.buttons.join(" | ") + "]") : "");
  }
  // Photos and voice messages (the media store, same origin only: the CSP): a thumbnail that opens
  // the photo, a player (and a download link: browsers cannot play WeChat's AMR/Speex) for voice.
  function mediaNode(m) {
    if (m.kind === "voice") {
      return el("span", { class: "voice" }, el("audio", { controls: "controls", preload: "none", src: m.url }),
        el("a", { href: m.url, target: "_blank", rel: "noopener" }, t("download")));
    }
    return el("a", { href: m.url, target: "_blank", rel: "noopener", class: "photo" },
      el("img", { src: m.url, alt: m.ref || t("photos"), loading: "lazy" }));
  }
  // The resident's media in the transcript, by time (photos are not conversation events).
  let shownMedia = new Set();
  async function loadConversationMedia(h, token) {
    let data;
    try { data = await api(`/api/media?resident=${encodeURIComponent(h.sender_id)}`); } catch (e) { return; }
    if (token !== pollToken) return;
    const box = $("#transcript");
    data.media.filter((m) => !shownMedia.has(m.id)).forEach((m) => {
      shownMedia.add(m.id);
      const time = new Date(m.created_at * 1000).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB");
      const node = el("div", { class: "msg resident media-msg", "data-ts": m.created_at, "data-media": m.id },
        el("div", { class: "who" }, `${t("from_resident")} · ${time}`),
        el("div", { class: "photos" }, m.kind === "voice" ? [t("voice_message"), " ", mediaNode(m)] : mediaNode(m)));
      const later = [...box.children].find((n) => Number(n.dataset.ts) > m.created_at);
      box.insertBefore(node, later || null);
    });
  }
  function appendMessages(messages) {
    const box = $("#transcript");
    messages.forEach((m) => { box.append(messageNode(m)); lastTs = Math.max(lastTs, m.ts); });
    if (messages.length) { box.scrollTop = box.scrollHeight; emit("messages", current, messages); }
  }
  function renderHead(h) {
    current = h;
    $("#conv-title").textContent = residentId(h);
    $("#conv-meta").textContent = `${h.channel} · ${t("st_" + h.status)} · ${t("rs_" + h.reason)}` + (h.agent ? ` · ${t("taken_by")}${h.agent_name || h.agent}` : "");
    const open = h.status === "queued" || h.status === "active";
    $("#conv-take").hidden = !(h.status === "queued" || (h.status === "active" && h.agent !== me.username && me.role === "admin"));
    $("#conv-close").hidden = !open;
    $("#reply-form").hidden = !open;
    $$(".queue-item").forEach((n) => n.classList.toggle("selected", Number(n.dataset.id) === h.id));
  }
  async function openConversation(id) {
    pollToken++;
    const data = await api(`/api/handoffs/${id}`);
    $("#conv-placeholder").hidden = true;
    $("#conv-body").hidden = false;
    $("#transcript").replaceChildren();
    $("#conv-status").textContent = "";
    lastTs = 0;
    renderHead(data.handoff);
    appendMessages(data.messages);
    shownMedia = new Set();
    loadConversationMedia(data.handoff, pollToken);
    emit("conversation", data.handoff, data.messages);
    poll(pollToken, id);
  }
  function reloadConversation() { if (current) openConversation(current.id); }
  async function poll(token, id) {
    // Long poll: the server answers as soon as the resident writes (or after 25 s).
    while (token === pollToken && me) {
      try {
        const data = await api(`/api/handoffs/${id}/messages?after=${lastTs}&wait=25`);
        if (token !== pollToken) return;
        renderHead(data.handoff);
        appendMessages(data.messages);
        loadConversationMedia(data.handoff, token);
        if (data.handoff.status !== "queued" && data.handoff.status !== "active" && !data.messages.length) {
          await new Promise((r) => setTimeout(r, 5000));
        }
      } catch (e) {
        if (!me) return;
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
  }
  async function deskAction(path, body) {
    const data = await api(`/api/handoffs/${current.id}/${path}`, { method: "POST", body: body || {} });
    renderHead(data.handoff);
    $("#conv-status").textContent = deliveryText(data);
    loadQueue();
    return data;
  }
  $("#conv-take").addEventListener("click", () => deskAction("take", { force: current.status === "active" }).catch(showError));
  $("#conv-close").addEventListener("click", () => { if (confirm(t("confirm_close"))) deskAction("close").catch(showError); });
  $("#reply-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $("#reply-text"), typed = box.value, text = typed.trim();
    if (!text || !current) return;
    $("#reply-send").disabled = true;
    try {
      const data = await deskAction("reply", { text });
      // The server answers after the first delivery attempt (up to ~2.5 s): keep whatever the
      // agent typed meanwhile, remove only what was sent.
      box.value = box.value.startsWith(typed) ? box.value.slice(typed.length).trimStart() : box.value;
      emit("reply", current, text, data);
    } catch (e) { showError(e); }
    $("#reply-send").disabled = false;
    $("#reply-text").focus();
  });
  $("#reply-text").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); $("#reply-form").requestSubmit(); }
  });
  function showError(e) { $("#conv-status").textContent = t("error") + e.message; }
  // What became of a message to the resident (the outbox answers after its first attempt or ~2.5 s).
  function deliveryText(data) {
    if (data.delivered) return t("delivered");
    if (data.delivery === "queued") return t("queued") + (data.error ? ` (${data.error})` : "");
    if (data.delivered === false) return t("not_delivered") + (data.error || "");
    return "";
  }

  // ------------------------------------------------------------ tickets
  const STATUSES = ["open", "assigned", "in_progress", "resolved", "closed"];
  const CATEGORIES = ["plumbing", "electrical", "elevator", "doors_locks", "public_area", "appliance", "other"];
  const TYPES = ["repair", "complaint"];
  const LABELS = {
    zh: { open: "待处理", assigned: "已派单", in_progress: "处理中", resolved: "已解决", closed: "已关闭",
      plumbing: "水管/漏水", electrical: "电路/照明", elevator: "电梯", doors_locks: "门窗/门锁", public_area: "公共区域",
      appliance: "家电设备", other: "其他", repair: "报修", complaint: "投诉" },
    en: { open: "open", assigned: "assigned", in_progress: "in progress", resolved: "resolved", closed: "closed",
      plumbing: "plumbing", electrical: "electrical", elevator: "elevator", doors_locks: "doors and locks",
      public_area: "public area", appliance: "appliance", other: "other", repair: "repair", complaint: "complaint" },
  };
  const lbl = (code) => (code ? (LABELS[lang][code] || code) : "-");
  function fillFilterOptions() {
    const fill = (select, codes) => {
      const value = select.value;
      select.replaceChildren(el("option", { value: "" }, t("all")), ...codes.map((c) => el("option", { value: c }, lbl(c))));
      select.value = value;
    };
    fill($("#filter-status"), STATUSES);
    fill($("#filter-category"), CATEGORIES);
    fill($("#filter-type"), TYPES);
    fillAssigneeFilter();
    const deliveryStatus = $("#delivery-status");
    const chosen = deliveryStatus.value || "dead";
    deliveryStatus.replaceChildren(...DELIVERY_STATUSES.map((s) => el("option", { value: s }, t("ds_" + s))));
    deliveryStatus.value = chosen;
  }
  const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB") : "-");

  // Texts of the ticket list's paging, "my tickets", assignee picker and export.
  Object.assign(I18N.zh, { my_tickets: "我的工单", mine_option: "我负责的", export_csv: "导出 CSV", export_xlsx: "导出 Excel",
    exporting: "正在导出…", exported: "已导出 {n} 条工单（电话已隐藏）", choose_assignee: "选择负责人…", assign_to_me: "派给我",
    not_a_staff_account: "（非工作人员账号）", pick_assignee: "请先选择负责人" });
  Object.assign(I18N.en, { my_tickets: "My tickets", mine_option: "assigned to me", export_csv: "Export CSV", export_xlsx: "Export Excel",
    exporting: "Exporting…", exported: "Exported {n} tickets (phones masked)", choose_assignee: "Choose an assignee…",
    assign_to_me: "Assign to me", not_a_staff_account: " (not a staff account)", pick_assignee: "Choose an assignee first" });

  // Staff accounts for the assignee picker and names (GET /api/staff: active accounts).
  let staff = [];
  const staffName = (username) => { const s = staff.find((u) => u.username === username); return s ? s.display_name : username; };
  async function loadStaff() {
    try { staff = (await api("/api/staff")).staff; } catch (e) { /* 401 shown by api(); keep the old list */ }
    fillAssigneeFilter();
  }
  function fillAssigneeFilter() {
    const select = $("#filter-assignee");
    if (!select) return;
    const value = select.value;
    select.replaceChildren(el("option", { value: "" }, t("all")), el("option", { value: "me" }, t("mine_option")),
      ...staff.map((s) => el("option", { value: s.username }, `${s.display_name} (${s.username})`)));
    select.value = [...select.options].some((o) => o.value === value) ? value : "";
  }

  const TICKET_PAGE = 50;
  let ticketOffset = 0;
  // Each load supersedes the ones before it: a slower, older answer (the unfiltered list asked
  // for just before "My tickets") must not replace the newer one on screen.
  let ticketLoad = 0;
  function ticketParams() {
    const params = new URLSearchParams();
    new FormData($("#ticket-filters")).forEach((v, k) => { if (v) params.set(k, v); });
    return params;
  }
  async function loadTickets() {
    $("#ticket-page").hidden = true;
    $("#ticket-table").closest(".card").hidden = false;
    if (!staff.length) await loadStaff();  // names in the assignee column
    const params = ticketParams();
    params.set("limit", String(TICKET_PAGE));
    params.set("offset", String(ticketOffset));
    const tbody = $("#ticket-table tbody");
    const load = ++ticketLoad;
    try {
      const data = await api("/api/tickets?" + params.toString());
      if (load !== ticketLoad) return;
      tbody.replaceChildren(...data.tickets.map((tk) => el("tr", { class: "ticket-row", "data-number": tk.number, onclick: () => openTicket(tk.number) },
        el("td", {}, el("a", { href: "#tickets" }, tk.number)), el("td", {}, lbl(tk.type)), el("td", {}, el("span", { class: "tag st-" + tk.status }, lbl(tk.status))),
        el("td", {}, lbl(tk.category)), el("td", {}, tk.location || tk.unit || "-"), el("td", { class: "desc" }, (tk.urgency === "urgent" ? "⚠ " : "") + tk.description),
        el("td", {}, tk.assignee ? staffName(tk.assignee) : "-"), el("td", {}, fmtTime(tk.created_at)))));
      if (!data.tickets.length) tbody.append(el("tr", {}, el("td", { colspan: 8, class: "muted" }, t("no_tickets"))));
      const last = Math.min(data.total, ticketOffset + data.tickets.length);
      $("#ticket-pager-info").textContent = data.total ? fmtPage(ticketOffset + 1, last, data.total) : "";
      $("#ticket-prev").disabled = ticketOffset === 0;
      $("#ticket-next").disabled = last >= data.total;
    } catch (e) {
      if (load === ticketLoad) tbody.replaceChildren(el("tr", {}, el("td", { colspan: 8, class: "error" }, t("error") + e.message)));
    }
  }
  $("#ticket-filters").addEventListener("submit", (ev) => { ev.preventDefault(); ticketOffset = 0; loadTickets(); });
  $("#filter-mine").addEventListener("click", () => { $("#filter-assignee").value = "me"; ticketOffset = 0; loadTickets(); });
  $("#ticket-prev").addEventListener("click", () => { ticketOffset = Math.max(0, ticketOffset - TICKET_PAGE); loadTickets(); });
  $("#ticket-next").addEventListener("click", () => { ticketOffset += TICKET_PAGE; loadTickets(); });

  // Export the filtered list (all pages): the file is fetched with the session, then saved.
  async function exportTickets(format) {
    const params = ticketParams();
    params.set("format", format);
    params.set("lang", lang);
    const status = $("#ticket-export-status");
    status.className = "muted";
    status.textContent = t("exporting");
    try {
      const res = await fetch("/api/tickets/export?" + params.toString(), { credentials: "same-origin" });
      if (res.status === 401) { showLogin(t("session_expired")); return; }
      if (!res.ok) { const data = await res.json().catch(() => null); throw new Error((data && data.message) || res.statusText); }
      const blob = await res.blob();
      const name = (/filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "") || [])[1] || `tickets.${format}`;
      const url = URL.createObjectURL(blob);
      const link = el("a", { href: url, download: name, class: "hidden-link" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 30000);
      status.textContent = t("exported").replace("{n}", res.headers.get("X-Linli-Rows") || "");
      status.dataset.file = name;
    } catch (e) { status.className = "error"; status.textContent = t("error") + e.message; }
  }
  $("#ticket-export-csv").addEventListener("click", () => exportTickets("csv"));
  $("#ticket-export-xlsx").addEventListener("click", () => exportTickets("xlsx"));

  async function openTicket(number) {
    const page = $("#ticket-page");
    if (!staff.length) await loadStaff();
    const data = await api(`/api/tickets/${encodeURIComponent(number)}`);
    const tk = data.ticket;
    page.dataset.number = tk.number;
    $("#ticket-table").closest(".card").hidden = true;
    page.hidden = false;
    const field = (k, v) => el("div", { class: "field" }, el("span", { class: "muted" }, t(k)), el("span", {}, v || "-"));
    const result = el("p", { class: "muted", role: "status" });
    const post = async (path, body) => {
      try { await api(`/api/tickets/${encodeURIComponent(tk.number)}/${path}`, { method: "POST", body }); openTicket(tk.number); }
      catch (e) { result.textContent = t("error") + e.message; result.className = "error"; }
    };
    // The assignee is picked from the active staff accounts; a name from before the picker stays visible.
    const assignSelect = el("select", { name: "assignee" }, el("option", { value: "" }, t("choose_assignee")),
      ...staff.map((s) => el("option", { value: s.username }, `${s.display_name} (${s.username})`)));
    if (tk.assignee && !staff.some((s) => s.username === tk.assignee)) {
      assignSelect.append(el("option", { value: tk.assignee, disabled: "disabled" }, tk.assignee + t("not_a_staff_account")));
    }
    assignSelect.value = tk.assignee || "";
    const statusSelect = el("select", { name: "status" }, ...STATUSES.map((s) => el("option", { value: s }, lbl(s))));
    statusSelect.value = tk.status;
    const statusNote = el("input", { name: "note", size: 30 });
    const noteInput = el("input", { name: "note", size: 40 });
    page.replaceChildren(
      el("button", { onclick: () => { page.hidden = true; loadTickets(); } }, "← " + t("back")),
      el("h2", {}, `${tk.number} · ${lbl(tk.type)} · `, el("span", { class: "tag st-" + tk.status }, lbl(tk.status))),
      el("div", { class: "fields" }, field("unit", tk.unit), field("location", tk.location), field("building", tk.building),
        field("area", tk.area), field("category", lbl(tk.category)),
        field("urgency", tk.urgency), field("visit_time", tk.visit_time), field("phone", tk.phone),
        field("assignee", tk.assignee ? staffName(tk.assignee) : ""), field("channel", `${tk.channel}:${tk.sender_id}`),
        field("created", fmtTime(tk.created_at))),
      el("p", { class: "description" }, tk.description),
      el("div", { class: "actions" },
        el("form", { id: "assign-form", onsubmit: (ev) => {
          ev.preventDefault();
          if (!assignSelect.value) { result.className = "error"; result.textContent = t("pick_assignee"); return; }
          post("assign", { assignee: assignSelect.value });
        } },
          assignSelect, el("button", { type: "submit" }, t("assign")),
          el("button", { type: "button", class: "secondary", id: "assign-me", onclick: () => post("assign", { assignee: me.username }) }, t("assign_to_me"))),
        el("form", { id: "status-form", onsubmit: (ev) => { ev.preventDefault(); post("status", { status: statusSelect.value, note: statusNote.value }); } },
          statusSelect, statusNote, el("button", { type: "submit" }, t("change_status")), el("span", { class: "muted" }, " " + t("notify_hint"))),
        el("form", { id: "note-form", onsubmit: (ev) => { ev.preventDefault(); post("notes", { note: noteInput.value }); } },
          noteInput, el("button", { type: "submit" }, t("add_note")))),
      result,
      el("h3", {}, t("photos")),
      tk.attachments.length ? el("div", { class: "photos" }, ...tk.attachments.map(mediaNode)) : el("p", { class: "muted" }, t("no_photos")),
      el("h3", {}, t("history")),
      el("ol", { class: "history" }, ...tk.events.map((e) => el("li", {}, `${fmtTime(e.at)} · ${e.actor} · ${e.action}`,
        e.to_status ? ` ${lbl(e.from_status)} → ${lbl(e.to_status)}` : "", e.note ? ` · ${e.note}` : ""))));
    emit("ticket", tk, page);
  }

  // ------------------------------------------------------------ dashboards: dashboards.js

  // ------------------------------------------------------------ deliveries (outbox)
  const DELIVERY_STATUSES = ["dead", "pending", "undeliverable", "sent"];
  const DELIVERY_PAGE = 50;
  let deliveryOffset = 0;
  // How a sent message went: WeChat's customer-service or template message, else the channel itself.
  const viaText = (via) => (!via ? "-" : (via === "customer_service" || via === "template") ? t("dv_" + via) : via);
  const fmtAge = (s) => (s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : s < 86400 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`);
  const fmtPage = (from, to, total) => t("page_of").replace("{from}", from).replace("{to}", to).replace("{total}", total);
  async function loadDeliveries() {
    if (!me) return;
    const status = $("#delivery-status").value || "dead";
    const tbody = $("#delivery-table tbody");
    try {
      const data = await api(`/api/outbox?status=${encodeURIComponent(status)}&limit=${DELIVERY_PAGE}&offset=${deliveryOffset}`);
      $("#dead-count").textContent = data.counts.dead ? String(data.counts.dead) : "";
      const admin = me.role === "admin";
      tbody.replaceChildren(...data.messages.map((m) => el("tr", { class: "delivery-row st-" + m.status, "data-id": m.id },
        el("td", { title: fmtTime(m.created_at) }, fmtAge(m.age_seconds)), el("td", {}, el("span", { class: "tag" }, m.channel)),
        el("td", {}, m.platform_id), el("td", {}, t("kd_" + m.kind)), el("td", { class: "desc", title: m.text }, m.text),
        el("td", { class: "reason" }, m.last_error || "-"), el("td", {}, String(m.attempts)),
        el("td", { class: "via" }, viaText(m.delivered_via)),
        el("td", {}, (m.status === "dead" || m.status === "undeliverable")
          ? el("button", { class: "retry", disabled: admin ? null : "disabled", title: admin ? null : t("retry_admin_only"),
            onclick: () => retryDelivery(m.id) }, t("retry")) : ""))));
      if (!data.messages.length) tbody.append(el("tr", {}, el("td", { colspan: 9, class: "muted" }, t("no_deliveries"))));
      const last = Math.min(data.total, deliveryOffset + data.messages.length);
      $("#delivery-page").textContent = data.total ? fmtPage(deliveryOffset + 1, last, data.total) : "";
      $("#delivery-prev").disabled = deliveryOffset === 0;
      $("#delivery-next").disabled = last >= data.total;
    } catch (e) { tbody.replaceChildren(el("tr", {}, el("td", { colspan: 8, class: "error" }, t("error") + e.message))); }
  }
  async function retryDelivery(id) {
    const result = $("#delivery-result");
    try {
      const data = await api(`/api/outbox/${id}/retry`, { method: "POST", body: {} });
      result.className = data.delivered ? "muted" : "error";
      result.textContent = `#${id}: ${deliveryText(data)}`;
    } catch (e) { result.className = "error"; result.textContent = t("error") + e.message; }
    loadDeliveries();
  }
  $("#delivery-filters").addEventListener("submit", (ev) => { ev.preventDefault(); deliveryOffset = 0; loadDeliveries(); });
  $("#delivery-prev").addEventListener("click", () => { deliveryOffset = Math.max(0, deliveryOffset - DELIVERY_PAGE); loadDeliveries(); });
  $("#delivery-next").addEventListener("click", () => { deliveryOffset += DELIVERY_PAGE; loadDeliveries(); });

  // ------------------------------------------------------------ users (admin)
  async function loadUsers() {
    if (!me || me.role !== "admin") return;
    const data = await api("/api/users");
    $("#user-table tbody").replaceChildren(...data.users.map((u) => el("tr", {},
      el("td", {}, u.username), el("td", {}, u.display_name), el("td", {}, u.role), el("td", {}, u.active ? t("enabled") : t("disabled")),
      el("td", {}, u.username === me.username ? "" : el("button", { onclick: async () => {
        await api(`/api/users/${encodeURIComponent(u.username)}/active`, { method: "POST", body: { active: !u.active } }); loadUsers();
      } }, u.active ? t("disable") : t("enable"))))));
  }
  $("#user-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = Object.fromEntries(new FormData(ev.target).entries());
    $("#user-error").textContent = "";
    try { await api("/api/users", { method: "POST", body }); ev.target.reset(); loadUsers(); }
    catch (e) { $("#user-error").textContent = t("error") + e.message; }
  });

  // ------------------------------------------------------------ feature registry
  window.LinliDesk = {
    api, t, el, $, $$, lbl, fmtTime, showError,
    me: () => me, lang: () => lang, current: () => current, show, reloadConversation, loadQueue,
    openTicket: (number) => { show("tickets"); return openTicket(number); },   // the tickets view, on that ticket's page
    view(name, hooks) { views[name] = hooks || {}; },
    strings(table) { Object.keys(table).forEach((l) => { I18N[l] = Object.assign(I18N[l] || {}, table[l]); }); },
    on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); },
  };

  // ------------------------------------------------------------ boot (after every feature script registered)
  function boot() {
    applyLang();
    api("/api/me").then((data) => start(data.user)).catch(() => showLogin(""));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else setTimeout(boot, 0);
})();
