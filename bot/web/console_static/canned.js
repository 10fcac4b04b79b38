/* Canned replies (常用语) for the staff desk; registers with window.LinliDesk (see console.js).
 *
 * In the conversation's reply box, "/" at the start opens a picker filtered as you type
 * (shortcut, title, text); ↑/↓ then Enter or Tab inserts the text, which stays editable:
 * nothing is sent by itself. The "常用语" button next to "Send" opens the same picker with a
 * search field. Replies in the conversation's language come first. The "常用语 / Quick
 * replies" view lists them: add, edit, delete your own; admins also the shared ones.
 * API: GET/POST /api/canned, PUT/DELETE /api/canned/<id> (docs/api.md).
 */
"use strict";
(function () {
  const D = window.LinliDesk;
  const { el, $, t } = D;

  D.strings({
    zh: {
      nav_canned: "常用语", cn_button: "常用语", cn_search: "搜索常用语…", cn_keys: "↑↓ 选择 · Enter/Tab 插入 · Esc 关闭",
      cn_manage: "管理常用语", cn_empty: "没有匹配的常用语", cn_title: "常用语",
      cn_intro: "在回复框开头输入 / 和快捷词（如 /hours）即可插入，插入后可以修改，不会自动发送。共享常用语由管理员维护，个人常用语只有自己可见。",
      cn_language: "语言", cn_shortcut: "快捷词", cn_name: "标题", cn_text: "内容", cn_scope: "范围", cn_shared: "共享",
      cn_personal: "个人", cn_share_box: "共享给所有工作人员", cn_new: "新增常用语", cn_edit: "编辑常用语", cn_save: "保存",
      cn_cancel: "取消编辑", cn_edit_btn: "编辑", cn_delete: "删除", cn_confirm_delete: "删除这条常用语？", cn_all: "全部语言",
      cn_none: "还没有常用语", cn_saved: "已保存", cn_deleted: "已删除", cn_zh: "中文", cn_en: "English",
      cn_shortcut_hint: "如 /hours",
    },
    en: {
      nav_canned: "Quick replies", cn_button: "Quick replies", cn_search: "Search quick replies…",
      cn_keys: "↑↓ choose · Enter/Tab insert · Esc close", cn_manage: "Manage quick replies", cn_empty: "No matching quick reply",
      cn_title: "Quick replies",
      cn_intro: "Type / and a shortcut (e.g. /hours) at the start of the reply box to insert one; you can edit it before sending, nothing is sent by itself. Shared replies are kept by admins; personal ones are yours alone.",
      cn_language: "Language", cn_shortcut: "Shortcut", cn_name: "Title", cn_text: "Text", cn_scope: "Scope", cn_shared: "shared",
      cn_personal: "personal", cn_share_box: "Share with all staff", cn_new: "New quick reply", cn_edit: "Edit quick reply",
      cn_save: "Save", cn_cancel: "Cancel editing", cn_edit_btn: "Edit", cn_delete: "Delete", cn_confirm_delete: "Delete this quick reply?",
      cn_all: "All languages", cn_none: "No quick replies yet", cn_saved: "Saved", cn_deleted: "Deleted", cn_zh: "中文", cn_en: "English",
      cn_shortcut_hint: "e.g. /hours",
    },
  });

  let replies = [];            // mine + shared, from GET /api/canned
  let convLanguage = null;     // language of the open conversation (its replies first)

  async function load() {
    try { replies = (await D.api("/api/canned")).replies; } catch (e) { /* 401 handled by api() */ }
    renderTable();
  }

  // ------------------------------------------------------------ picker in the reply box
  const textarea = $("#reply-text");
  const openButton = el("button", { type: "button", id: "canned-open", class: "secondary", "data-i18n": "cn_button",
    "aria-haspopup": "listbox" }, t("cn_button"));
  const search = el("input", { type: "search", id: "canned-search", "data-i18n-placeholder": "cn_search", autocomplete: "off" });
  const list = el("ul", { id: "canned-list", class: "canned-list", role: "listbox" });
  const picker = el("div", { id: "canned-picker", class: "canned-picker", hidden: "hidden" }, search, list,
    el("div", { class: "canned-foot" }, el("span", { class: "muted", "data-i18n": "cn_keys" }, t("cn_keys")),
      el("a", { href: "#canned", "data-i18n": "cn_manage", onclick: (ev) => { ev.preventDefault(); close(); D.show("canned"); } }, t("cn_manage"))));
  $("#reply-send").before(openButton);
  $("#reply-form").append(picker);

  let mode = null;             // "slash": filtered by the "/word" typed in the box; "button": by the search field
  let shown = [];
  let active = 0;

  function ranked(query) {
    const q = query.toLowerCase();
    const language = convLanguage || D.lang();
    const hit = (r) => !q || (r.shortcut || "").toLowerCase().includes(q) || r.title.toLowerCase().includes(q) || r.text.toLowerCase().includes(q);
    const score = (r) => (r.language === language ? 0 : 2) + (q && (r.shortcut || "").slice(1).toLowerCase().startsWith(q) ? 0 : 1);
    return replies.filter(hit).sort((a, b) => score(a) - score(b) || (a.shortcut || "~").localeCompare(b.shortcut || "~") || a.title.localeCompare(b.title));
  }
  function renderPicker(query) {
    shown = ranked(query);
    active = Math.min(active, Math.max(0, shown.length - 1));
    list.replaceChildren(...shown.map((r, i) => el("li", { class: "canned-item" + (i === active ? " active" : ""), role: "option",
      "aria-selected": i === active ? "true" : "false", "data-id": r.id,
      onmousedown: (ev) => { ev.preventDefault(); insert(r); } },  // mousedown: the box keeps its focus
      el("div", { class: "row" }, r.shortcut ? el("span", { class: "tag shortcut" }, r.shortcut) : "", el("strong", {}, r.title),
        el("span", { class: "tag" }, r.language), r.shared ? el("span", { class: "tag" }, t("cn_shared")) : ""),
      el("div", { class: "canned-text" }, r.text))));
    if (!shown.length) list.append(el("li", { class: "muted canned-none" }, replies.length ? t("cn_empty") : t("cn_none")));
    const node = list.children[active];
    if (node && node.scrollIntoView) node.scrollIntoView({ block: "nearest" });
  }
  function open(how, query) {
    if (mode !== how) active = 0;
    mode = how;
    picker.hidden = false;
    search.hidden = how !== "button";
    openButton.setAttribute("aria-expanded", "true");
    renderPicker(query || "");
  }
  function close() {
    mode = null;
    picker.hidden = true;
    openButton.setAttribute("aria-expanded", "false");
  }
  // The "/word" at the start of the box, while the caret is still inside it.
  function slashQuery() {
    const value = textarea.value;
    if (!value.startsWith("/")) return null;
    const end = value.search(/\s/) === -1 ? value.length : value.search(/\s/);
    return textarea.selectionStart <= end ? value.slice(1, end) : null;
  }
  function insert(reply) {
    if (mode === "slash") {
      const value = textarea.value;
      const end = value.search(/\s/) === -1 ? value.length : value.search(/\s/);
      textarea.value = reply.text + value.slice(end);
      textarea.setSelectionRange(reply.text.length, reply.text.length);
    } else {
      const from = textarea.selectionStart, to = textarea.selectionEnd, value = textarea.value;
      textarea.value = value.slice(0, from) + reply.text + value.slice(to);
      textarea.setSelectionRange(from + reply.text.length, from + reply.text.length);
    }
    close();
    textarea.focus();
  }
  function onKey(ev) {
    if (!mode) return;
    const move = { ArrowDown: 1, ArrowUp: -1 }[ev.key];
    if (move && shown.length) {
      active = (active + move + shown.length) % shown.length;
      renderPicker(mode === "slash" ? (slashQuery() || "") : search.value);
    } else if ((ev.key === "Enter" && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey) || ev.key === "Tab") {
      if (!shown.length) { if (ev.key === "Tab") close(); return; }
      insert(shown[active]);
    } else if (ev.key === "Escape") {
      close();
      textarea.focus();
    } else return;
    ev.preventDefault();
    ev.stopPropagation();
  }
  textarea.addEventListener("keydown", onKey, true);
  search.addEventListener("keydown", onKey, true);
  textarea.addEventListener("input", () => {
    const query = slashQuery();
    if (query !== null) open("slash", query);
    else if (mode === "slash") close();
  });
  search.addEventListener("input", () => { active = 0; renderPicker(search.value); });
  openButton.addEventListener("click", () => {
    if (mode === "button") { close(); return; }
    search.value = "";
    open("button", "");
    search.focus();
  });
  document.addEventListener("mousedown", (ev) => {
    if (mode && !picker.contains(ev.target) && ev.target !== openButton && ev.target !== textarea) close();
  });

  // ------------------------------------------------------------ management view
  const langSelect = (name, withAll) => el("select", { name },
    withAll ? el("option", { value: "", "data-i18n": "cn_all" }, t("cn_all")) : "",
    el("option", { value: "zh", "data-i18n": "cn_zh" }, t("cn_zh")), el("option", { value: "en", "data-i18n": "cn_en" }, t("cn_en")));
  const filter = langSelect("language", true);
  filter.id = "canned-filter-language";
  filter.addEventListener("change", renderTable);
  const tbody = el("tbody");
  const form = el("form", { id: "canned-form", class: "canned-form" },
    el("label", {}, el("span", { "data-i18n": "cn_language" }, t("cn_language")), langSelect("language", false)),
    el("label", {}, el("span", { "data-i18n": "cn_shortcut" }, t("cn_shortcut")),
      el("input", { name: "shortcut", maxlength: "32", "data-i18n-placeholder": "cn_shortcut_hint", autocomplete: "off" })),
    el("label", {}, el("span", { "data-i18n": "cn_name" }, t("cn_name")), el("input", { name: "title", maxlength: "100", required: "required" })),
    el("label", { class: "wide" }, el("span", { "data-i18n": "cn_text" }, t("cn_text")),
      el("textarea", { name: "text", rows: "3", maxlength: "4000", required: "required" })),
    el("label", { class: "check", id: "canned-shared-box", hidden: "hidden" }, el("input", { type: "checkbox", name: "shared" }),
      el("span", { "data-i18n": "cn_share_box" }, t("cn_share_box"))),
    el("div", { class: "wide row" }, el("button", { type: "submit", "data-i18n": "cn_save" }, t("cn_save")),
      el("button", { type: "button", class: "secondary", id: "canned-cancel", hidden: "hidden", onclick: () => edit(null), "data-i18n": "cn_cancel" }, t("cn_cancel"))));
  const formTitle = el("h3", { id: "canned-form-title" }, t("cn_new"));
  const message = el("p", { id: "canned-message", class: "muted", role: "status" });
  $("#view-canned").append(
    el("div", { class: "card" },
      el("h2", { "data-i18n": "cn_title" }, t("cn_title")),
      el("p", { class: "muted", "data-i18n": "cn_intro" }, t("cn_intro")),
      el("div", { class: "filters" }, el("label", {}, el("span", { "data-i18n": "cn_language" }, t("cn_language")), filter)),
      el("table", { id: "canned-table" }, el("thead", {}, el("tr", {},
        ...["cn_language", "cn_shortcut", "cn_name", "cn_text", "cn_scope"].map((k) => el("th", { "data-i18n": k }, t(k))), el("th"))), tbody)),
    el("div", { class: "card" }, formTitle, form, message));

  let editing = null;          // id of the reply in the form, or null for a new one
  function edit(reply) {
    editing = reply ? reply.id : null;
    form.reset();
    if (reply) {
      form.elements.language.value = reply.language;
      form.elements.shortcut.value = reply.shortcut || "";
      form.elements.title.value = reply.title;
      form.elements.text.value = reply.text;
      form.elements.shared.checked = reply.shared;
    } else {
      form.elements.language.value = D.lang();
    }
    formTitle.textContent = t(reply ? "cn_edit" : "cn_new");
    $("#canned-cancel").hidden = !reply;
    if (reply) form.elements.title.focus();
  }
  function renderTable() {
    const language = filter.value;
    const rows = replies.filter((r) => !language || r.language === language);
    tbody.replaceChildren(...rows.map((r) => el("tr", { class: "canned-row", "data-id": r.id },
      el("td", {}, r.language === "zh" ? t("cn_zh") : t("cn_en")), el("td", {}, r.shortcut || "-"), el("td", {}, r.title),
      el("td", { class: "desc", title: r.text }, r.text), el("td", {}, r.shared ? t("cn_shared") : t("cn_personal")),
      el("td", { class: "row" }, r.editable ? [
        el("button", { type: "button", class: "secondary", onclick: () => edit(r) }, t("cn_edit_btn")),
        el("button", { type: "button", class: "danger", onclick: () => remove(r) }, t("cn_delete"))] : ""))));
    if (!rows.length) tbody.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, t("cn_none"))));
    formTitle.textContent = t(editing ? "cn_edit" : "cn_new");
  }
  function say(text, isError) { message.className = isError ? "error" : "muted"; message.textContent = text; }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = { language: form.elements.language.value, shortcut: form.elements.shortcut.value, title: form.elements.title.value,
      text: form.elements.text.value };
    const me = D.me();
    if (me && me.role === "admin") data.shared = form.elements.shared.checked;
    try {
      if (editing) await D.api(`/api/canned/${editing}`, { method: "PUT", body: data });
      else await D.api("/api/canned", { method: "POST", body: data });
      say(t("cn_saved"));
      edit(null);
      await load();
    } catch (e) { say(t("error") + e.message, true); }
  });
  async function remove(reply) {
    if (!confirm(t("cn_confirm_delete") + `\n${reply.title}`)) return;
    try { await D.api(`/api/canned/${reply.id}`, { method: "DELETE", body: {} }); say(t("cn_deleted")); if (editing === reply.id) edit(null); await load(); }
    catch (e) { say(t("error") + e.message, true); }
  }

  // ------------------------------------------------------------ wiring
  D.view("canned", { load, rerender: renderTable });
  D.on("start", (user) => { $("#canned-shared-box").hidden = user.role !== "admin"; edit(null); load(); });
  // Another conversation closes the picker. The same one reloaded (the language toggle reloads
  // it) keeps it open: the agent may already be typing "/…" while the reload is on its way.
  let convId = null;
  D.on("conversation", (handoff) => {
    const same = handoff.id === convId;
    convId = handoff.id;
    convLanguage = handoff.language || null;
    if (!same) close();
    load();
  });
  D.on("lang", () => { if (mode) renderPicker(mode === "slash" ? (slashQuery() || "") : search.value); });
})();
