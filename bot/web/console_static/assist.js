/* Agent assist: suggested replies during a handoff; registers with window.LinliDesk (see console.js).
 *
 * For the resident's latest message the conversation view shows up to three replies from the
 * knowledge base (GET /api/handoffs/<id>/suggestions): the text, its source and confidence, in
 * the resident's language. "插入 / Insert" puts one into the reply box for editing; nothing is
 * sent without the agent. Usage is counted (POST .../suggestions/used: inserted, and sent when
 * the reply still contains it) and drawn on the dashboards (GET /api/stats/assist).
 */
"use strict";
(function () {
  const D = window.LinliDesk;
  const { el, $, t } = D;

  D.strings({
    zh: {
      as_title: "建议回复", as_loading: "正在查找知识库…", as_insert: "插入", as_confidence: "置信度",
      as_none_not_question: "居民最新的消息不是问题，暂无建议。", as_none_abstained: "知识库没有可靠答案，暂无建议，请人工回复。",
      as_none_no_message: "居民还没有发消息。", as_none_kb_unavailable: "知识库暂时不可用。",
      as_hint: "点击“插入”放入回复框，可修改后再发送。", as_inserted: "已插入回复框，确认后再发送。",
      as_kind_answer: "机器人答案", as_kind_faq: "常见问题", as_kind_regulation: "规章条款",
      dash_assist: "建议回复使用情况（近30天）", as_shown: "展示", as_used: "插入", as_sent: "发送",
      as_totals: "合计：展示 {shown}，插入 {inserted}，发送 {sent}", as_no_data: "暂无建议回复数据",
    },
    en: {
      as_title: "Suggested replies", as_loading: "Looking in the knowledge base…", as_insert: "Insert", as_confidence: "confidence",
      as_none_not_question: "The resident's latest message is not a question: no suggestions.",
      as_none_abstained: "The knowledge base has no reliable answer: no suggestions, reply yourself.",
      as_none_no_message: "The resident has not written yet.", as_none_kb_unavailable: "The knowledge base is unavailable right now.",
      as_hint: "Insert puts a reply in the box; edit it, then send.", as_inserted: "Inserted in the reply box; check it, then send.",
      as_kind_answer: "bot's answer", as_kind_faq: "FAQ", as_kind_regulation: "regulation",
      dash_assist: "Suggested replies (30 days)", as_shown: "shown", as_used: "inserted", as_sent: "sent",
      as_totals: "Totals: {shown} shown, {inserted} inserted, {sent} sent", as_no_data: "No suggested replies yet",
    },
  });

  const hint = el("p", { id: "assist-hint", class: "muted" });
  const list = el("ul", { id: "assist-list", class: "assist-list" });
  const panel = el("section", { id: "assist-panel", class: "assist-panel", hidden: "hidden", "aria-live": "polite" },
    el("h3", { "data-i18n": "as_title" }, t("as_title")), hint, list);
  $("#reply-form").before(panel);

  let handoff = null;          // the conversation shown
  let last = null;             // the latest answer (redrawn on language change)
  let token = 0;               // drops answers for a conversation no longer shown
  let inserted = [];           // suggestion texts put in the reply box since the last reply

  async function load() {
    if (!handoff) return;
    const mine = ++token;
    const open = handoff.status === "queued" || handoff.status === "active";
    panel.hidden = !open;
    if (!open) return;
    hint.textContent = t("as_loading");
    try {
      const data = await D.api(`/api/handoffs/${handoff.id}/suggestions`);
      if (mine !== token) return;
      last = data;
      render();
    } catch (e) { if (mine === token) { hint.textContent = t("error") + e.message; list.replaceChildren(); } }
  }
  function render() {
    if (!last) return;
    const items = last.suggestions || [];
    panel.dataset.reason = last.reason || "";
    hint.textContent = items.length ? t("as_hint") : t("as_none_" + (last.reason || "abstained"));
    list.replaceChildren(...items.map((s) => el("li", { class: "assist-item kind-" + s.kind, "data-id": s.id, lang: s.language },
      el("div", { class: "assist-text" }, s.text),
      el("div", { class: "assist-meta muted" },
        el("span", { class: "tag" }, t("as_kind_" + s.kind)), " ", el("span", { class: "assist-source" }, s.source || "-"),
        ` · ${t("as_confidence")} `, el("span", { class: "assist-confidence" }, `${Math.round((s.confidence || 0) * 100)}%`),
        el("button", { type: "button", class: "secondary assist-insert", onclick: () => insert(s) }, t("as_insert"))))));
  }
  function insert(s) {
    const box = $("#reply-text");
    const value = box.value;
    if (!value.trim()) box.value = s.text;
    else {
      const at = box.selectionStart == null ? value.length : box.selectionStart;
      const joiner = at > 0 && value[at - 1] !== "\n" ? "\n" : "";
      box.value = value.slice(0, at) + joiner + s.text + value.slice(box.selectionEnd == null ? at : box.selectionEnd);
    }
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    inserted.push(s.text);
    hint.textContent = t("as_inserted");
    D.api(`/api/handoffs/${handoff.id}/suggestions/used`, { method: "POST", body: { event: "inserted", suggestion: s.text } }).catch(() => {});
  }

  D.on("conversation", (h) => { const changed = !handoff || handoff.id !== h.id; handoff = h; if (changed) inserted = []; last = null; list.replaceChildren(); load(); });
  // A new resident message asks for new suggestions; the agent's own messages do not.
  D.on("messages", (h, messages) => { if (handoff && h && h.id === handoff.id && last && messages.some((m) => m.from === "resident")) { handoff = h; load(); } });
  D.on("reply", (h, text) => {
    const used = inserted;
    inserted = [];
    used.forEach((suggestion) => D.api(`/api/handoffs/${h.id}/suggestions/used`, { method: "POST", body: { event: "sent", suggestion, text } }).catch(() => {}));
  });
  D.on("lang", render);

  // ------------------------------------------------------------ dashboard card
  function draw(box, data) {
    const C = window.LinliCharts;
    const series = [{ key: "shown", name: t("as_shown") }, { key: "inserted", name: t("as_used") }, { key: "sent", name: t("as_sent") }];
    const rows = data.days.map((d) => ({ label: d.day.slice(5), title: d.day, values: { shown: d.shown, inserted: d.inserted, sent: d.sent } }));
    const width = Math.max(260, Math.floor(box.clientWidth || 600));
    const totals = data.totals || {};
    box.replaceChildren(
      C.columns(rows, series, { width, height: 180, label: t("dash_assist"), empty: t("as_no_data") }),
      el("div", { class: "chart-foot" }, C.legend(series),
        el("span", { class: "muted assist-totals", "data-shown": totals.shown, "data-inserted": totals.inserted, "data-sent": totals.sent },
          t("as_totals").replace("{shown}", totals.shown).replace("{inserted}", totals.inserted).replace("{sent}", totals.sent))));
  }
  if (window.LinliDashboards) window.LinliDashboards.add({ key: "assist", title: "dash_assist", wide: true, get: () => D.api("/api/stats/assist?days=30"), draw });
})();
