/* Knowledge base page (知识库): FAQ, documents, re-index, hit test, unanswered questions, setup.
 *
 * For editors and admins, over /api/kb (docs/api.md "Knowledge base"). A feature of the desk:
 * registers with window.LinliDesk (see the top of console.js); no inline scripts or styles (CSP),
 * styles in kb.css. Edits do not re-index by themselves: the bar at the top says when the
 * residents' answers are behind the content and starts a re-index, whose progress it shows.
 */
"use strict";
(function () {
  const D = window.LinliDesk;
  const { el, t, $ } = D;
  const TABS = ["faq", "docs", "index", "hit", "unanswered", "setup"];
  const PAGE = 20;
  const JOB_POLL_MS = 700;
  const st = {
    built: false, tab: "faq",
    faq: { offset: 0, total: 0, entries: [], categories: [] },
    editing: null,        // faq_id being edited (null: a new entry)
    answering: null,      // unanswered group the entry being written answers: { ids, count, question }
    status: null, jobId: null, jobTimer: null, lastJob: null,
    docs: [], replacing: null, hit: null, unanswered: null, setup: null,
  };

  D.strings({
    zh: {
      nav_kb: "知识库",
      kb_tab_faq: "常见问题", kb_tab_docs: "文档", kb_tab_index: "索引与版本", kb_tab_hit: "命中测试",
      kb_tab_unanswered: "未回答问题", kb_tab_setup: "初始设置",
      kb_demo_banner: "当前知识库是演示数据（虚构的“阳光花园”小区和电话号码），居民会收到这些虚构信息。",
      kb_demo_go: "去初始设置", kb_dirty: "有尚未索引的更改：居民现在得到的仍是旧答案。", kb_clean: "知识库已索引，居民得到的是最新内容",
      kb_active_version: "当前版本", kb_reindex: "重新索引", kb_reindexing: "正在索引…",
      kb_job_done: "索引完成：版本 {v} 已启用，所有服务器将在 {s} 秒内使用新内容。", kb_job_failed: "索引失败：",
      kb_stage_queued: "排队中", kb_stage_running: "进行中", kb_stage_staging: "准备内容", kb_stage_reading: "读取和切分",
      kb_stage_embedding: "计算向量", kb_stage_indexing: "建立索引", kb_stage_writing: "写入索引", kb_stage_publishing: "保存并启用版本",
      kb_stage_done: "完成", kb_stage_failed: "失败",
      kb_search: "搜索", kb_language: "语言", kb_lang_all: "全部语言", kb_lang_zh: "有中文", kb_lang_en: "有英文",
      kb_lang_auto: "自动识别", kb_zh: "中文", kb_en: "English", kb_faq_id: "编号 / 类别", kb_updated: "最后修改",
      kb_new_faq: "新建问答", kb_edit_faq: "编辑问答", kb_export_csv: "导出 CSV", kb_export_xlsx: "导出 Excel",
      kb_import_file: "导入 CSV / Excel", kb_import_mode: "导入方式", kb_import: "导入",
      kb_mode_merge: "合并（新增和更新）", kb_mode_replace: "替换（删除表中没有的条目）",
      kb_import_done: "导入完成：新增 {c}，更新 {u}，删除 {d}。", kb_import_errors: "文件有错误，什么都没有改：",
      kb_row: "第 {n} 行", kb_pick_file: "请先选择文件。", kb_confirm_replace: "替换会删除文件中没有的所有问答条目，确定吗？",
      kb_question: "问题", kb_answer: "答案", kb_id: "编号", kb_id_auto: "留空则自动生成",
      kb_similar: "相似问法（每行一个）", kb_similar_hint: "居民可能的其他问法，帮助找到这条问答", kb_similar_count: "相似问法 {n} 个",
      kb_missing_lang: "（无）", kb_demo_tag: "演示", kb_no_faq: "没有符合条件的问答",
      save: "保存", cancel: "取消", edit: "编辑", delete: "删除", close: "关闭",
      kb_saved: "已保存。", kb_reindex_hint: "点击上方“重新索引”后居民即可得到新答案。",
      kb_need_language: "至少填写一种语言的问题和答案。", kb_need_both: "问题和答案都要填写：", kb_need_category: "请填写类别。",
      kb_exists: "这个编号已经存在。", kb_confirm_delete: "删除问答 {id}？", kb_deleted: "已删除 {id}。",
      kb_answering: "这条问答将回答 {n} 个居民未得到答复的问题：", kb_marked_answered: "{n} 个未回答问题已标记为已解答。",
      kb_doc_file: "上传文档", kb_upload: "上传", kb_doc_hint: "支持 md、txt、pdf、docx（含表格）、xlsx",
      kb_filename: "文件名", kb_kind: "类型", kb_size: "大小", kb_chunks: "片段", kb_chunks_col: "片段数", kb_warnings: "提示", kb_uploaded: "上传",
      kb_view_chunks: "查看片段", kb_replace: "替换文件", kb_no_docs: "还没有文档", kb_uploaded_ok: "已上传 {f}：{n} 个片段。",
      kb_replaced_ok: "已替换 {f}：{n} 个片段。", kb_confirm_delete_doc: "删除文档 {f}？",
      kb_no_text_layer: "这个 PDF 没有文字层（扫描件），无法读取任何内容。请先做 OCR 文字识别，或上传文字版本。",
      kb_unsupported: "不支持这种文件类型。", kb_too_large: "文件太大。",
      kb_versions: "索引版本", kb_version: "版本", kb_created: "创建时间", kb_note: "说明", kb_active: "使用中",
      kb_restore: "恢复此版本", kb_confirm_restore: "让所有服务器改用版本 {v} 回答居民？", kb_restored: "已启用版本 {v}。",
      kb_jobs: "索引任务", kb_started_by: "发起人", kb_finished: "完成时间",
      kb_hit_placeholder: "输入居民可能会问的问题，例如：快递柜在哪里？", kb_hit_run: "测试",
      kb_decision_faq: "用资料原句回答（常见问题或法规条文，精简）", kb_decision_generate: "根据资料生成", kb_decision_abstain: "不回答（转人工）",
      kb_confidence: "最高相似度", kb_intent: "识别意图", kb_thresholds: "阈值", kb_th_abstain: "低于 {v} 不回答", kb_th_measured: "按本知识库 {n} 条问答测得", kb_th_fixed: "固定值", kb_region_not_cited: "所在地区为{region}，以下外地法规不引用：{docs}", kb_th_faq: "≥ {v} 时用资料原句回答",
      kb_th_support: "生成答案支持率 ≥ {v}", kb_mode: "方式", kb_mode_extractive: "资料原句", kb_mode_generated: "模型生成",
      kb_mode_fallback: "生成未通过核查，改用最相关段落", kb_mode_abstained: "不回答",
      kb_resident_gets: "居民会收到的回复", kb_resident: "居民", kb_passages: "最相关的段落",
      kb_generated_rejected: "模型生成的答案（未采用）", kb_hit_intent: "注意：助手会把这句话识别为“{intent}”，不会去查知识库；居民实际收到的是该意图的回复。",
      kb_doc: "文档", kb_faq: "问答", kb_used: "已引用",
      kb_un_status_new: "待处理", kb_un_status_ignored: "已忽略", kb_un_status_answered: "已解答",
      kb_un_count: "{g} 组，共 {q} 个问题", kb_also_asked: "其他问法：", kb_add_as_faq: "添加为问答", kb_ignore: "忽略",
      kb_try_hit: "命中测试", kb_no_unanswered: "没有未回答的问题", kb_times: "次", kb_ignored: "已忽略 {n} 个问题。",
      kb_answered_by: "解答条目：",
      kb_setup_demo: "知识库仍是演示内容。请换成贵小区的名称、办公时间和电话，或者从空白知识库开始。",
      kb_setup_custom: "知识库已按以下信息设置。", kb_setup_customise: "换成本小区的信息",
      kb_setup_customise_hint: "会替换所有中英文问答中的演示小区名称、办公时间、电话号码（每个都要填）和邮箱，然后重新索引。",
      kb_community_zh: "小区名称（中文）", kb_community_en: "小区名称（英文）", kb_hours_zh: "办公时间（中文）", kb_hours_en: "办公时间（英文）",
      kb_setup_phones: "电话号码", kb_phone_demo: "演示号码", kb_phone_new: "新号码", kb_phone_what: "用途",
      kb_setup_apply: "替换并重新索引", kb_setup_confirm: "用这些信息替换所有演示内容并重新索引？",
      kb_setup_empty: "从空白知识库开始", kb_setup_empty_hint: "删除所有问答和文档（包括演示内容），之后自行添加或导入。",
      kb_setup_empty_button: "清空知识库", kb_setup_empty_confirm: "确定删除全部问答和文档吗？居民将暂时得不到任何知识库答案。",
      kb_setup_done: "已修改 {r} 条、删除 {d} 项，正在重新索引。", kb_email: "电子邮箱（可不填）",
    },
    en: {
      nav_kb: "Knowledge base",
      kb_tab_faq: "FAQ", kb_tab_docs: "Documents", kb_tab_index: "Index & versions", kb_tab_hit: "Hit test",
      kb_tab_unanswered: "Unanswered", kb_tab_setup: "Setup",
      kb_demo_banner: "This knowledge base is demo data (the invented community Sunshine Garden and made-up phone numbers): residents are told these.",
      kb_demo_go: "Go to setup", kb_dirty: "Changes not indexed yet: residents still get the old answers.", kb_clean: "Indexed: residents get the current content",
      kb_active_version: "Active version", kb_reindex: "Re-index", kb_reindexing: "Indexing…",
      kb_job_done: "Indexed: version {v} is active; every server answers from it within {s} s.", kb_job_failed: "Indexing failed: ",
      kb_stage_queued: "queued", kb_stage_running: "running", kb_stage_staging: "preparing content", kb_stage_reading: "reading and chunking",
      kb_stage_embedding: "embedding", kb_stage_indexing: "building the index", kb_stage_writing: "writing the index",
      kb_stage_publishing: "storing and activating the version", kb_stage_done: "done", kb_stage_failed: "failed",
      kb_search: "Search", kb_language: "Language", kb_lang_all: "All languages", kb_lang_zh: "Has Chinese", kb_lang_en: "Has English",
      kb_lang_auto: "Detect", kb_zh: "中文", kb_en: "English", kb_faq_id: "ID / category", kb_updated: "Last change",
      kb_new_faq: "New entry", kb_edit_faq: "Edit entry", kb_export_csv: "Export CSV", kb_export_xlsx: "Export Excel",
      kb_import_file: "Import CSV / Excel", kb_import_mode: "Mode", kb_import: "Import",
      kb_mode_merge: "Merge (add and update)", kb_mode_replace: "Replace (delete entries not in the file)",
      kb_import_done: "Imported: {c} created, {u} updated, {d} deleted.", kb_import_errors: "The file has errors; nothing was changed:",
      kb_row: "row {n}", kb_pick_file: "Choose a file first.", kb_confirm_replace: "Replace deletes every entry that is not in the file. Continue?",
      kb_question: "Question", kb_answer: "Answer", kb_id: "ID", kb_id_auto: "empty: generated",
      kb_similar: "Similar questions (one per line)", kb_similar_hint: "Other ways residents ask this; they help find the entry",
      kb_similar_count: "{n} similar question(s)",
      kb_missing_lang: "(none)", kb_demo_tag: "demo", kb_no_faq: "No entries match",
      save: "Save", cancel: "Cancel", edit: "Edit", delete: "Delete", close: "Close",
      kb_saved: "Saved.", kb_reindex_hint: "Re-index (above) to give residents the new answer.",
      kb_need_language: "Fill in the question and answer in at least one language.", kb_need_both: "Both question and answer are needed: ",
      kb_need_category: "Fill in a category.",
      kb_exists: "An entry with this ID exists.", kb_confirm_delete: "Delete entry {id}?", kb_deleted: "Deleted {id}.",
      kb_answering: "This entry will answer {n} questions residents asked without getting an answer:",
      kb_marked_answered: "{n} unanswered question(s) marked answered.",
      kb_doc_file: "Upload a document", kb_upload: "Upload", kb_doc_hint: "md, txt, pdf, docx (tables included), xlsx",
      kb_filename: "File", kb_kind: "Type", kb_size: "Size", kb_chunks: "chunks", kb_chunks_col: "Chunks", kb_warnings: "Warnings", kb_uploaded: "Uploaded",
      kb_view_chunks: "Chunks", kb_replace: "Replace file", kb_no_docs: "No documents yet", kb_uploaded_ok: "Uploaded {f}: {n} chunks.",
      kb_replaced_ok: "Replaced {f}: {n} chunks.", kb_confirm_delete_doc: "Delete the document {f}?",
      kb_no_text_layer: "This PDF has no text layer (a scan): nothing in it can be read. OCR it first, or upload the text.",
      kb_unsupported: "This file type is not supported.", kb_too_large: "The file is too large.",
      kb_versions: "Index versions", kb_version: "Version", kb_created: "Created", kb_note: "Note", kb_active: "active",
      kb_restore: "Restore", kb_confirm_restore: "Make every server answer residents from version {v}?", kb_restored: "Version {v} is active.",
      kb_jobs: "Indexing jobs", kb_started_by: "Started by", kb_finished: "Finished",
      kb_hit_placeholder: "A question a resident might ask, e.g. Where are the parcel lockers?", kb_hit_run: "Test",
      kb_decision_faq: "Answered with the sources' own sentences (FAQ or article, trimmed)", kb_decision_generate: "Generated from passages", kb_decision_abstain: "Abstain (offer a human)",
      kb_confidence: "Best similarity", kb_intent: "NLU intent", kb_thresholds: "Thresholds", kb_th_abstain: "abstain below {v}", kb_th_measured: "measured on this base's {n} FAQ questions", kb_th_fixed: "fixed value", kb_region_not_cited: "Region {region}: other places' rules are not cited: {docs}", kb_th_faq: "the sources' own sentences from {v}",
      kb_th_support: "a generated answer needs support ≥ {v}", kb_mode: "Mode", kb_mode_extractive: "the sources' own sentences", kb_mode_generated: "generated",
      kb_mode_fallback: "generation failed the check: best passage instead", kb_mode_abstained: "no answer",
      kb_resident_gets: "What the resident gets", kb_resident: "Resident", kb_passages: "Top passages",
      kb_generated_rejected: "Generated answer (not used)", kb_hit_intent: "Note: the assistant reads this message as “{intent}” and does not consult the knowledge base; residents get that intent's reply.",
      kb_doc: "document", kb_faq: "FAQ", kb_used: "cited",
      kb_un_status_new: "To review", kb_un_status_ignored: "Ignored", kb_un_status_answered: "Answered",
      kb_un_count: "{g} groups, {q} questions", kb_also_asked: "Also asked as: ", kb_add_as_faq: "Add as FAQ", kb_ignore: "Ignore",
      kb_try_hit: "Hit test", kb_no_unanswered: "No unanswered questions", kb_times: "×", kb_ignored: "Ignored {n} question(s).",
      kb_answered_by: "Answered by: ",
      kb_setup_demo: "The knowledge base is still the demo. Replace the community's name, office hours and phone numbers with yours, or start from an empty knowledge base.",
      kb_setup_custom: "The knowledge base was set up with these details.", kb_setup_customise: "Use your community's details",
      kb_setup_customise_hint: "Replaces the demo community's name, office hours, phone numbers (each one is needed) and e-mail in every entry (both languages), then re-indexes.",
      kb_community_zh: "Community name (Chinese)", kb_community_en: "Community name (English)", kb_hours_zh: "Office hours (Chinese)", kb_hours_en: "Office hours (English)",
      kb_setup_phones: "Phone numbers", kb_phone_demo: "Demo number", kb_phone_new: "New number", kb_phone_what: "What it is",
      kb_setup_apply: "Replace and re-index", kb_setup_confirm: "Replace the demo details everywhere with these and re-index?",
      kb_setup_empty: "Start from an empty knowledge base", kb_setup_empty_hint: "Deletes every FAQ entry and document (the demo too); then add or import your own.",
      kb_setup_empty_button: "Empty the knowledge base", kb_setup_empty_confirm: "Delete every FAQ entry and document? Residents get no knowledge-base answers until you add some.",
      kb_setup_done: "Changed {r} entries, deleted {d}; re-indexing.", kb_email: "E-mail (optional)",
    },
  });

  // ------------------------------------------------------------ helpers
  const tr = (key, tag, attrs) => el(tag || "span", Object.assign({ "data-i18n": key }, attrs || {}), t(key));
  const fill = (key, values) => Object.entries(values).reduce((s, [k, v]) => s.split(`{${k}}`).join(String(v)), t(key));
  const val = (sel) => ($(sel) ? $(sel).value : "");
  const enc = encodeURIComponent;
  const th = (key) => el("th", { "data-i18n": key }, t(key));
  const fmtSize = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : n >= 1024 ? `${Math.round(n / 1024)} KB` : `${n} B`);

  const call = (path, options) => D.api(path, options);  // errors carry status, code and data
  function say(node, text, kind) {
    if (!node) return;
    node.className = "kb-msg " + (kind || "ok");
    node.textContent = text;
  }
  function failed(node, e) { say(node, t("error") + e.message, "error"); }
  // The latest request of a list wins: an older answer arriving late (a search typed while the
  // tab was still loading) must not replace the newer one.
  const latest = {};
  function ticket(name) {
    const n = (latest[name] || 0) + 1;
    latest[name] = n;
    return () => latest[name] === n;
  }
  // A file as base64 (the API takes uploads as JSON: cookie-authenticated writes must be JSON).
  function readBase64(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }
  function uploadError(e) {
    if (e.code === "no_text_layer") return `${t("kb_no_text_layer")} (${e.message})`;
    if (e.code === "unsupported_type") return `${t("kb_unsupported")} ${e.message}`;
    if (e.status === 413) return `${t("kb_too_large")} ${e.message}`;
    return t("error") + e.message;
  }
  function options(select, pairs) {
    const chosen = select.value;
    select.replaceChildren(...pairs.map(([value, key]) => el("option", { value }, key.startsWith("kb_") ? t(key) : key)));
    if (pairs.some(([v]) => v === chosen)) select.value = chosen;
  }

  // ------------------------------------------------------------ layout (built on first view)
  function build() {
    const root = $("#view-kb");
    root.replaceChildren(
      el("div", { class: "card kb-head" },
        el("p", { id: "kb-demo-banner", class: "kb-demo", hidden: "" }, tr("kb_demo_banner"), " ",
          el("button", { type: "button", class: "kb-link", onclick: () => openTab("setup") }, tr("kb_demo_go"))),
        el("div", { class: "kb-statusbar" },
          el("span", { id: "kb-status", class: "kb-status" }),
          el("button", { id: "kb-reindex", type: "button", onclick: reindex }, tr("kb_reindex")),
          el("div", { id: "kb-job", class: "kb-job", hidden: "" },
            el("div", { class: "kb-progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" },
              el("div", { id: "kb-progress-bar", class: "kb-progress-bar" })),
            el("span", { id: "kb-job-text", class: "muted" }))),
        el("nav", { id: "kb-tabs", class: "kb-tabs", role: "tablist" },
          ...TABS.map((name) => el("button", { type: "button", role: "tab", "data-tab": name, onclick: () => openTab(name) },
            tr("kb_tab_" + name))))),
      el("div", { id: "kb-panel-faq", class: "card kb-panel" }, ...faqPanel()),
      el("div", { id: "kb-panel-docs", class: "card kb-panel", hidden: "" }, ...docsPanel()),
      el("div", { id: "kb-panel-index", class: "card kb-panel", hidden: "" }, ...indexPanel()),
      el("div", { id: "kb-panel-hit", class: "card kb-panel", hidden: "" }, ...hitPanel()),
      el("div", { id: "kb-panel-unanswered", class: "card kb-panel", hidden: "" }, ...unansweredPanel()),
      el("div", { id: "kb-panel-setup", class: "card kb-panel", hidden: "" }, el("div", { id: "kb-setup" })));
    fillOptions();
    st.built = true;
  }
  function fillOptions() {
    options($("#kb-faq-language"), [["", "kb_lang_all"], ["zh", "kb_lang_zh"], ["en", "kb_lang_en"]]);
    options($("#kb-faq-category"), [["", "all"], ...st.faq.categories.map((c) => [c, c])]);
    $("#kb-faq-category").firstChild.textContent = t("all");
    options($("#kb-import-mode"), [["merge", "kb_mode_merge"], ["replace", "kb_mode_replace"]]);
    options($("#kb-hit-lang"), [["", "kb_lang_auto"], ["zh", "kb_zh"], ["en", "kb_en"]]);
    options($("#kb-un-status"), [["new", "kb_un_status_new"], ["ignored", "kb_un_status_ignored"], ["answered", "kb_un_status_answered"]]);
  }
  function openTab(name) {
    if (st.tab !== name) {  // a message belongs to what was just done on the tab left
      document.querySelectorAll(`#kb-panel-${st.tab} .kb-msg`).forEach((n) => { n.textContent = ""; n.className = ""; });
    }
    st.tab = name;
    TABS.forEach((tab) => { $("#kb-panel-" + tab).hidden = tab !== name; });
    document.querySelectorAll("#kb-tabs button").forEach((b) => {
      b.classList.toggle("active", b.dataset.tab === name);
      b.setAttribute("aria-selected", b.dataset.tab === name ? "true" : "false");
    });
    ({ faq: loadFaq, docs: loadDocs, index: loadVersions, hit: renderHit, unanswered: loadUnanswered, setup: loadSetup })[name]();
  }

  // ------------------------------------------------------------ status bar and re-index jobs
  async function loadStatus() {
    const current = ticket("status");
    try {
      const s = await call("/api/kb/status");
      if (!current()) return;
      st.status = s;
      renderStatus();
      if (s.job && (s.job.status === "queued" || s.job.status === "running")) trackJob(s.job);
    } catch (e) { say($("#kb-status"), t("error") + e.message, "error"); }
  }
  function renderStatus() {
    const s = st.status;
    if (!s) return;
    $("#kb-demo-banner").hidden = !s.demo;
    const node = $("#kb-status");
    node.className = "kb-status " + (s.dirty ? "dirty" : "clean");
    node.textContent = (s.dirty ? "⚠ " + t("kb_dirty") : "✓ " + t("kb_clean")) +
      (s.active_version != null ? ` · ${t("kb_active_version")} ${s.active_version}` : "");
  }
  async function reindex() {
    try {
      const data = await call("/api/kb/reindex", { method: "POST", body: {} });
      trackJob(data.job);
    } catch (e) {
      if (e.code === "job_running" && e.data && e.data.job) trackJob(e.data.job);
      else { $("#kb-job").hidden = false; say($("#kb-job-text"), t("kb_job_failed") + e.message, "error"); }
    }
  }
  function renderJob(job) {
    const running = job.status === "queued" || job.status === "running";
    $("#kb-job").hidden = false;
    $("#kb-reindex").disabled = running;
    const pct = Math.round(100 * Math.max(0, Math.min(1, job.progress || 0)));
    const bar = $("#kb-progress-bar");
    bar.style.width = `${job.status === "done" ? 100 : pct}%`;
    bar.className = "kb-progress-bar " + job.status;
    bar.parentNode.setAttribute("aria-valuenow", String(pct));
    const text = $("#kb-job-text");
    if (job.status === "done") {
      say(text, fill("kb_job_done", { v: job.version_id, s: (st.status && st.status.reload_seconds) || 5 }), "ok");
    } else if (job.status === "failed") {
      say(text, t("kb_job_failed") + (job.message || ""), "error");
    } else {
      const stage = job.stage ? (t("kb_stage_" + job.stage) !== "kb_stage_" + job.stage ? t("kb_stage_" + job.stage) : job.stage) : t("kb_stage_" + job.status);
      say(text, `${t("kb_reindexing")} ${stage} ${pct}%` + (job.message ? ` · ${job.message}` : ""), "muted");
    }
  }
  function trackJob(job) {
    st.jobId = job.id;
    st.lastJob = job;
    renderJob(job);
    clearTimeout(st.jobTimer);
    if (job.status !== "queued" && job.status !== "running") return;
    st.jobTimer = setTimeout(async () => {
      try {
        const data = await call(`/api/kb/jobs/${enc(job.id)}`);
        if (st.jobId !== job.id) return;
        if (data.job.status === "done" || data.job.status === "failed") {
          // The status first, then the finished bar: the page never shows "done" beside the
          // stale "changes not indexed" line, and the done text can quote the reload time.
          st.lastJob = data.job;
          await loadStatus();
          renderJob(data.job);
          if (st.tab === "index") loadVersions();
          return;
        }
        trackJob(data.job);
      } catch (e) { st.jobTimer = setTimeout(() => trackJob(job), 2000); }
    }, JOB_POLL_MS);
  }

  // ------------------------------------------------------------ FAQ
  function faqPanel() {
    return [
      el("form", { id: "kb-faq-filters", class: "filters", onsubmit: (ev) => { ev.preventDefault(); st.faq.offset = 0; loadFaq(); } },
        el("label", {}, tr("kb_search"), el("input", { id: "kb-faq-q", name: "q", type: "search", size: 22 })),
        el("label", {}, tr("category"), el("select", { id: "kb-faq-category", name: "category" })),
        el("label", {}, tr("kb_language"), el("select", { id: "kb-faq-language", name: "language" })),
        el("button", { type: "submit" }, tr("search")),
        el("button", { type: "button", id: "kb-faq-new", onclick: () => openEditor(null) }, tr("kb_new_faq")),
        el("span", { class: "kb-spacer" }),
        el("button", { type: "button", class: "secondary", id: "kb-export-csv", onclick: () => exportFaq("csv") }, tr("kb_export_csv")),
        el("button", { type: "button", class: "secondary", id: "kb-export-xlsx", onclick: () => exportFaq("xlsx") }, tr("kb_export_xlsx"))),
      el("form", { id: "kb-faq-import", class: "filters kb-import", onsubmit: importFaq },
        el("label", {}, tr("kb_import_file"), el("input", { id: "kb-import-file", type: "file", accept: ".csv,.xlsx" })),
        el("label", {}, tr("kb_import_mode"), el("select", { id: "kb-import-mode" })),
        el("button", { type: "submit", class: "secondary" }, tr("kb_import")),
        el("div", { id: "kb-import-result", role: "status" })),
      el("div", { id: "kb-faq-result", role: "status" }),
      el("div", { id: "kb-faq-editor", class: "kb-editor", hidden: "" }),
      el("table", { id: "kb-faq-table", class: "kb-faq-table" },
        el("thead", {}, el("tr", {}, th("kb_faq_id"), th("kb_zh"), th("kb_en"), th("kb_updated"), el("th"))), el("tbody")),
      el("div", { class: "pager" },
        el("button", { type: "button", id: "kb-faq-prev", onclick: () => { st.faq.offset = Math.max(0, st.faq.offset - PAGE); loadFaq(); } }, tr("prev")),
        el("span", { id: "kb-faq-page", class: "muted" }),
        el("button", { type: "button", id: "kb-faq-next", onclick: () => { st.faq.offset += PAGE; loadFaq(); } }, tr("next"))),
    ];
  }
  async function loadFaq() {
    const params = new URLSearchParams({ limit: String(PAGE), offset: String(st.faq.offset) });
    const q = val("#kb-faq-q").trim(), category = val("#kb-faq-category"), language = val("#kb-faq-language");
    if (q) params.set("q", q);
    if (category) params.set("category", category);
    if (language) params.set("language", language);
    const tbody = $("#kb-faq-table tbody"), current = ticket("faq");
    try {
      const data = await call("/api/kb/faq?" + params.toString());
      if (!current()) return;
      st.faq.entries = data.entries; st.faq.total = data.total;
      if (JSON.stringify(data.categories || []) !== JSON.stringify(st.faq.categories)) {
        st.faq.categories = data.categories || [];
        fillOptions();
      }
      renderFaq();
    } catch (e) { tbody.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "error" }, t("error") + e.message))); }
  }
  function qaCell(text) {
    if (!text) return el("td", { class: "muted kb-qa" }, t("kb_missing_lang"));
    const similar = text.similar || [];
    return el("td", { class: "kb-qa" }, el("div", { class: "kb-q" }, text.question), el("div", { class: "kb-a", title: text.answer }, text.answer),
      similar.length ? el("div", { class: "muted kb-similar-count", title: similar.join("\n") }, fill("kb_similar_count", { n: similar.length })) : "");
  }
  function renderFaq() {
    const { entries, total, offset } = { ...st.faq };
    $("#kb-faq-table tbody").replaceChildren(...entries.map((e) => el("tr", { class: "kb-faq-row", "data-id": e.faq_id },
      el("td", { class: "kb-id-cell" }, el("div", { class: "kb-id" }, e.faq_id), el("div", { class: "muted" }, e.category || "-"),
        e.demo ? el("span", { class: "tag kb-demo-tag" }, t("kb_demo_tag")) : ""),
      qaCell(e.zh), qaCell(e.en),
      el("td", { class: "muted kb-when" }, D.fmtTime(e.updated_at), el("br"), e.updated_by || ""),
      el("td", { class: "kb-actions" },
        el("button", { type: "button", class: "secondary kb-edit", onclick: () => openEditor(e) }, t("edit")),
        el("button", { type: "button", class: "danger kb-delete", onclick: () => deleteFaq(e) }, t("delete"))))));
    if (!entries.length) $("#kb-faq-table tbody").append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, t("kb_no_faq"))));
    const last = Math.min(total, offset + entries.length);
    $("#kb-faq-page").textContent = total ? t("page_of").replace("{from}", offset + 1).replace("{to}", last).replace("{total}", total) : "";
    $("#kb-faq-prev").disabled = offset === 0;
    $("#kb-faq-next").disabled = last >= total;
  }
  function langFields(lang, text, prefill) {
    const question = text ? text.question : (prefill && prefill.language === lang ? prefill.question : "");
    return el("fieldset", { class: "kb-lang" },
      el("legend", {}, tr(lang === "zh" ? "kb_zh" : "kb_en")),
      el("label", {}, tr("kb_question"), el("input", { id: `kb-ed-${lang}-q`, lang, value: question })),
      el("label", {}, tr("kb_answer"), el("textarea", { id: `kb-ed-${lang}-a`, lang, rows: 5 }, text ? text.answer : "")),
      el("label", {}, tr("kb_similar"), el("textarea", { id: `kb-ed-${lang}-s`, lang, rows: 3, placeholder: t("kb_similar_hint") },
        text && text.similar ? text.similar.join("\n") : "")));
  }
  // one similar question per line: trimmed, blank lines dropped
  const lines = (text) => text.split("\n").map((line) => line.trim()).filter(Boolean);
  function openEditor(entry, prefill) {
    st.editing = entry ? entry.faq_id : null;
    if (!prefill) st.answering = null;
    const box = $("#kb-faq-editor");
    box.hidden = false;
    box.replaceChildren(
      el("h3", {}, entry ? `${t("kb_edit_faq")} · ${entry.faq_id}` : t("kb_new_faq")),
      st.answering ? el("p", { class: "kb-note" }, fill("kb_answering", { n: st.answering.count }), " ",
        el("q", {}, st.answering.question)) : "",
      el("div", { class: "kb-editor-meta" },
        el("label", {}, tr("kb_id"), el("input", { id: "kb-ed-id", value: entry ? entry.faq_id : "", readonly: entry ? "" : null,
          placeholder: t("kb_id_auto"), maxlength: 120 })),
        el("label", {}, tr("category"), el("input", { id: "kb-ed-category", list: "kb-categories", value: entry ? entry.category : "", maxlength: 64 })),
        el("datalist", { id: "kb-categories" }, ...st.faq.categories.map((c) => el("option", { value: c })))),
      el("div", { class: "kb-two" }, langFields("zh", entry && entry.zh, prefill), langFields("en", entry && entry.en, prefill)),
      el("div", { class: "row" },
        el("button", { id: "kb-ed-save", type: "button", onclick: saveFaq }, tr("save")),
        el("button", { type: "button", class: "secondary", onclick: closeEditor }, tr("cancel")),
        el("span", { id: "kb-ed-result", role: "status" })));
    box.scrollIntoView({ block: "nearest" });
    const first = prefill ? $(`#kb-ed-${prefill.language}-a`) : $("#kb-ed-category");
    if (first) first.focus();
  }
  function closeEditor() {
    $("#kb-faq-editor").hidden = true;
    $("#kb-faq-editor").replaceChildren();
    st.editing = null; st.answering = null;
  }
  async function saveFaq() {
    const result = $("#kb-ed-result");
    const body = { category: val("#kb-ed-category").trim() };
    const id = val("#kb-ed-id").trim();
    if (!st.editing && id) body.faq_id = id;
    for (const lang of ["zh", "en"]) {
      const question = val(`#kb-ed-${lang}-q`).trim(), answer = val(`#kb-ed-${lang}-a`).trim();
      if (question && answer) body[lang] = { question, answer, similar: lines(val(`#kb-ed-${lang}-s`)) };
      else if (question || answer) return say(result, t("kb_need_both") + t(lang === "zh" ? "kb_zh" : "kb_en"), "error");
    }
    if (!body.category) return say(result, t("kb_need_category"), "error");
    if (!body.zh && !body.en) return say(result, t("kb_need_language"), "error");
    const saveButton = $("#kb-ed-save");
    saveButton.disabled = true;
    try {
      const data = st.editing
        ? await call(`/api/kb/faq/${enc(st.editing)}`, { method: "PUT", body })
        : await call("/api/kb/faq", { method: "POST", body });
      let message = t("kb_saved");
      if (st.answering) {
        const marked = await call("/api/kb/unanswered/answered", { method: "POST", body: { ids: st.answering.ids, faq_id: data.entry.faq_id } });
        message += " " + fill("kb_marked_answered", { n: marked.updated });
      }
      closeEditor();
      say($("#kb-faq-result"), `${message} ${data.entry.faq_id} · ${t("kb_reindex_hint")}`, "ok");
      await Promise.all([loadFaq(), loadStatus()]);
    } catch (e) {
      saveButton.disabled = false;
      say(result, e.status === 409 ? t("kb_exists") + " " + e.message : t("error") + e.message, "error");
    }
  }
  async function deleteFaq(entry) {
    if (!confirm(fill("kb_confirm_delete", { id: entry.faq_id }))) return;
    try {
      await call(`/api/kb/faq/${enc(entry.faq_id)}`, { method: "DELETE" });
      say($("#kb-faq-result"), fill("kb_deleted", { id: entry.faq_id }) + " " + t("kb_reindex_hint"), "ok");
      if (st.faq.entries.length === 1 && st.faq.offset > 0) st.faq.offset = Math.max(0, st.faq.offset - PAGE);
      await Promise.all([loadFaq(), loadStatus()]);
    } catch (e) { failed($("#kb-faq-result"), e); }
  }
  async function exportFaq(format) {
    const result = $("#kb-faq-result");
    try {
      const res = await fetch(`/api/kb/faq/export?format=${format}`, { credentials: "same-origin" });
      if (!res.ok) {
        const data = await res.json().catch(() => null);
        throw new Error((data && data.message) || res.statusText);
      }
      const disposition = res.headers.get("Content-Disposition") || "";
      const named = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
      const link = el("a", { href: URL.createObjectURL(await res.blob()), download: named ? decodeURIComponent(named[1]) : `faq.${format}` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (e) { failed(result, e); }
  }
  async function importFaq(ev) {
    ev.preventDefault();
    const result = $("#kb-import-result");
    const file = $("#kb-import-file").files[0];
    if (!file) return say(result, t("kb_pick_file"), "error");
    const mode = val("#kb-import-mode") || "merge";
    if (mode === "replace" && !confirm(t("kb_confirm_replace"))) return;
    try {
      const data = await call("/api/kb/faq/import", { method: "POST", body: { filename: file.name, content_base64: await readBase64(file), mode } });
      say(result, fill("kb_import_done", { c: data.created, u: data.updated, d: data.deleted }) + " " + t("kb_reindex_hint"), "ok");
      $("#kb-import-file").value = "";
      await Promise.all([loadFaq(), loadStatus()]);
    } catch (e) {
      const rows = (e.data && e.data.errors) || [];
      if (!rows.length) return say(result, uploadError(e), "error");
      result.className = "kb-msg error";
      result.replaceChildren(el("div", {}, t("kb_import_errors")),
        el("ul", {}, ...rows.slice(0, 20).map((r) => el("li", {}, `${fill("kb_row", { n: r.row })}: ${r.message}`))));
    }
  }

  // ------------------------------------------------------------ documents
  function docsPanel() {
    return [
      el("form", { id: "kb-doc-form", class: "filters", onsubmit: uploadDoc },
        el("label", {}, tr("kb_doc_file"), el("input", { id: "kb-doc-file", type: "file", accept: ".md,.txt,.pdf,.docx,.xlsx" })),
        el("button", { id: "kb-doc-upload", type: "submit" }, tr("kb_upload")),
        el("span", { class: "muted" }, tr("kb_doc_hint"))),
      el("div", { id: "kb-doc-result", role: "status" }),
      el("input", { id: "kb-doc-replace-file", type: "file", accept: ".md,.txt,.pdf,.docx,.xlsx", hidden: "", onchange: replaceChosen }),
      el("table", { id: "kb-doc-table" }, el("thead", {}, el("tr", {}, th("kb_filename"), th("kb_kind"), th("kb_size"), th("kb_chunks_col"),
        th("kb_warnings"), th("kb_uploaded"), el("th"))), el("tbody")),
      el("div", { id: "kb-chunks", class: "kb-chunks", hidden: "" }),
    ];
  }
  async function loadDocs() {
    const tbody = $("#kb-doc-table tbody"), current = ticket("docs");
    try {
      const data = await call("/api/kb/documents");
      if (!current()) return;
      st.docs = data.documents;
      tbody.replaceChildren(...st.docs.map((d) => el("tr", { class: "kb-doc-row", "data-id": d.id },
        el("td", { class: "kb-filename" }, d.filename), el("td", {}, el("span", { class: "tag" }, d.kind)), el("td", {}, fmtSize(d.size || 0)),
        el("td", { class: "kb-chunk-count" }, String(d.chunks)),
        el("td", { class: "kb-warnings" }, ...(d.warnings || []).map((w) => el("div", { class: "warn" }, "⚠ " + w))),
        el("td", { class: "muted kb-when" }, D.fmtTime(d.uploaded_at), el("br"), d.uploaded_by || ""),
        el("td", { class: "kb-actions" },
          el("button", { type: "button", class: "secondary kb-view-chunks", onclick: () => showChunks(d) }, t("kb_view_chunks")),
          el("button", { type: "button", class: "secondary", onclick: () => { st.replacing = d; $("#kb-doc-replace-file").click(); } }, t("kb_replace")),
          el("button", { type: "button", class: "danger", onclick: () => deleteDoc(d) }, t("delete"))))));
      if (!st.docs.length) tbody.append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, t("kb_no_docs"))));
    } catch (e) { tbody.replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "error" }, t("error") + e.message))); }
  }
  async function sendDoc(file, doc) {
    const result = $("#kb-doc-result");
    const body = { filename: file.name, content_base64: await readBase64(file) };
    try {
      const data = doc ? await call(`/api/kb/documents/${enc(doc.id)}`, { method: "PUT", body })
        : await call("/api/kb/documents", { method: "POST", body });
      say(result, fill(doc ? "kb_replaced_ok" : "kb_uploaded_ok", { f: data.document.filename, n: data.document.chunks }) + " " + t("kb_reindex_hint"), "ok");
      await Promise.all([loadDocs(), loadStatus()]);
      showChunks(data.document);
    } catch (e) { say(result, uploadError(e), "error"); }
  }
  async function uploadDoc(ev) {
    ev.preventDefault();
    const file = $("#kb-doc-file").files[0];
    if (!file) return say($("#kb-doc-result"), t("kb_pick_file"), "error");
    $("#kb-doc-upload").disabled = true;
    try { await sendDoc(file, null); $("#kb-doc-file").value = ""; } finally { $("#kb-doc-upload").disabled = false; }
  }
  async function replaceChosen() {
    const input = $("#kb-doc-replace-file"), file = input.files[0], doc = st.replacing;
    input.value = "";
    st.replacing = null;
    if (file && doc) await sendDoc(file, doc);
  }
  async function deleteDoc(doc) {
    if (!confirm(fill("kb_confirm_delete_doc", { f: doc.filename }))) return;
    try {
      await call(`/api/kb/documents/${enc(doc.id)}`, { method: "DELETE" });
      $("#kb-chunks").hidden = true;
      await Promise.all([loadDocs(), loadStatus()]);
    } catch (e) { failed($("#kb-doc-result"), e); }
  }
  async function showChunks(doc) {
    const box = $("#kb-chunks");
    try {
      const data = await call(`/api/kb/documents/${enc(doc.id)}/chunks`);
      box.hidden = false;
      box.replaceChildren(
        el("div", { class: "kb-chunks-head" }, el("h3", {}, `${data.document.filename} · ${data.chunks.length} ${t("kb_chunks")}`),
          el("button", { type: "button", class: "secondary", onclick: () => { box.hidden = true; } }, t("close"))),
        el("ol", { class: "kb-chunk-list" }, ...data.chunks.map((c) => el("li", { class: "kb-chunk", "data-chunk": c.chunk_id },
          el("div", { class: "kb-chunk-head muted" }, [c.section || c.title, c.article].filter(Boolean).join(" · ")),
          el("div", { class: "kb-chunk-text" }, c.text)))));
      box.scrollIntoView({ block: "nearest" });
    } catch (e) { failed($("#kb-doc-result"), e); }
  }

  // ------------------------------------------------------------ versions and jobs
  function indexPanel() {
    return [
      el("h3", {}, tr("kb_versions")),
      el("table", { id: "kb-version-table" }, el("thead", {}, el("tr", {}, th("kb_version"), th("kb_created"), th("kb_note"), th("kb_chunks_col"), el("th"))), el("tbody")),
      el("div", { id: "kb-version-result", role: "status" }),
      el("h3", {}, tr("kb_jobs")),
      el("table", { id: "kb-job-table" }, el("thead", {}, el("tr", {}, el("th", {}, "#"), th("status"), th("kb_started_by"), th("kb_created"),
        th("kb_finished"), th("kb_version"), th("kb_note"))), el("tbody")),
    ];
  }
  async function loadVersions() {
    const result = $("#kb-version-result"), current = ticket("versions");
    try {
      const [data, jobs] = await Promise.all([call("/api/kb/versions"), call("/api/kb/jobs?limit=10")]);
      if (!current()) return;
      $("#kb-version-table tbody").replaceChildren(...data.versions.map((v) => el("tr", { class: "kb-version-row" + (v.active ? " active" : ""), "data-id": v.id },
        el("td", {}, String(v.id), v.active ? el("span", { class: "tag kb-active-tag" }, t("kb_active")) : ""),
        el("td", {}, D.fmtTime(v.created_at)), el("td", { class: "desc" }, v.note || ""), el("td", {}, String(v.chunks)),
        el("td", {}, v.active ? "" : el("button", { type: "button", class: "secondary", onclick: () => restore(v.id) }, t("kb_restore"))))));
      $("#kb-job-table tbody").replaceChildren(...jobs.jobs.map((j) => el("tr", { class: "st-job-" + j.status },
        el("td", {}, String(j.id)), el("td", {}, t("kb_stage_" + j.status)), el("td", {}, j.started_by || "-"), el("td", {}, D.fmtTime(j.created_at)),
        el("td", {}, D.fmtTime(j.finished_at)), el("td", {}, j.version_id == null ? "-" : String(j.version_id)),
        el("td", { class: j.status === "failed" ? "error" : "muted" }, j.message || ""))));
    } catch (e) { failed(result, e); }
  }
  async function restore(id) {
    if (!confirm(fill("kb_confirm_restore", { v: id }))) return;
    try {
      const data = await call(`/api/kb/versions/${enc(id)}/activate`, { method: "POST", body: {} });
      say($("#kb-version-result"), fill("kb_restored", { v: data.active }), "ok");
      await Promise.all([loadVersions(), loadStatus()]);
    } catch (e) { failed($("#kb-version-result"), e); }
  }

  // ------------------------------------------------------------ hit test
  function hitPanel() {
    return [
      el("form", { id: "kb-hit-form", class: "kb-hit-form", onsubmit: runHitTest },
        el("textarea", { id: "kb-hit-q", rows: 2, maxlength: 1000, "data-i18n-placeholder": "kb_hit_placeholder", placeholder: t("kb_hit_placeholder") }),
        el("label", {}, tr("kb_language"), el("select", { id: "kb-hit-lang" })),
        el("button", { id: "kb-hit-run", type: "submit" }, tr("kb_hit_run"))),
      el("div", { id: "kb-hit-result", role: "status" }),
    ];
  }
  async function runHitTest(ev) {
    if (ev) ev.preventDefault();
    const question = val("#kb-hit-q").trim();
    if (!question) return;
    const box = $("#kb-hit-result");
    $("#kb-hit-run").disabled = true;
    box.replaceChildren(el("p", { class: "muted" }, "…"));
    try {
      st.hit = await call("/api/kb/hit-test", { method: "POST", body: { question, language: val("#kb-hit-lang") || undefined } });
      renderHit();
    } catch (e) { st.hit = null; say(box, t("error") + e.message, "error"); }
    $("#kb-hit-run").disabled = false;
  }
  function scoreClass(score, th) {
    return score >= th.extractive_faq_above ? "high" : score >= th.abstain_below ? "mid" : "low";
  }
  function renderHit() {
    const r = st.hit, box = $("#kb-hit-result");
    if (!r) return;
    const th = r.thresholds;
    const cited = new Set((r.citations || []).map((c) => c.chunk_id));
    box.className = "";
    box.replaceChildren(
      el("div", { class: "kb-hit-summary", "data-kb-version": r.kb_version == null ? "" : String(r.kb_version) },
        el("span", { id: "kb-hit-decision", class: "kb-decision " + r.decision, "data-decision": r.decision }, t("kb_decision_" + r.decision)),
        el("span", {}, `${t("kb_confidence")} `, el("strong", { class: "kb-score " + scoreClass(r.confidence, th) }, r.confidence.toFixed(3))),
        el("span", { class: "muted" }, `${t("kb_thresholds")}: ${fill("kb_th_abstain", { v: th.abstain_below.toFixed(3) })}` +
          (r.abstention && r.abstention.measured ? ` (${fill("kb_th_measured", { n: r.abstention.questions })})` : ` (${t("kb_th_fixed")})`) + " · " +
          `${fill("kb_th_faq", { v: th.extractive_faq_above.toFixed(3) })} · ${fill("kb_th_support", { v: th.min_support })}`),
        el("span", { class: "muted" }, `${t("kb_mode")}: ${t("kb_mode_" + r.mode)} · ${t("kb_version")} ${r.kb_version == null ? "-" : r.kb_version}` +
          (r.intent ? ` · ${t("kb_intent")}: ${r.intent.name} (${r.intent.confidence.toFixed(2)})` : ""))),
      r.region && r.region.not_cited && r.region.not_cited.length ? el("p", { id: "kb-hit-region", class: "muted" },
        fill("kb_region_not_cited", { region: r.region.name, docs: r.region.not_cited.map((d) => `《${d}》`).join(" ") })) : "",
      r.intent && !r.intent.knowledge_base ? el("p", { id: "kb-hit-intent", class: "kb-msg warn" }, fill("kb_hit_intent", { intent: r.intent.name })) : "",
      el("div", { class: "kb-chat" },
        el("div", { class: "kb-chat-title muted" }, t("kb_resident_gets")),
        el("div", { class: "kb-bubble resident" }, r.question),
        el("div", { id: "kb-hit-reply", class: "kb-bubble bot" }, r.reply)),
      r.mode === "fallback" && r.generated ? el("details", { class: "kb-rejected" }, el("summary", {}, t("kb_generated_rejected")),
        el("p", {}, r.generated), el("p", { class: "muted" }, (r.rejected_because || []).join("; "))) : "",
      el("h3", {}, t("kb_passages")),
      el("ol", { id: "kb-hit-passages", class: "kb-passages" }, ...r.hits.map((h) => el("li", { class: "kb-passage" + (cited.has(h.chunk_id) ? " cited" : ""), "data-chunk": h.chunk_id },
        el("div", { class: "kb-passage-head" },
          el("span", { class: "kb-score " + scoreClass(h.score, th) }, h.score.toFixed(3)),
          el("span", { class: "tag" }, h.kind === "faq" ? t("kb_faq") : t("kb_doc")),
          el("strong", {}, h.citation), h.kind === "faq" && h.title ? el("span", {}, " · " + h.title) : "",
          h.kind !== "faq" && h.section ? el("span", { class: "muted" }, " · " + h.section) : "",
          cited.has(h.chunk_id) ? el("span", { class: "tag kb-cited" }, t("kb_used")) : ""),
        el("div", { class: "kb-passage-text" }, h.text)))));
  }
  function hitTestOf(question) {
    openTab("hit");
    $("#kb-hit-q").value = question;
    runHitTest();
  }

  // ------------------------------------------------------------ unanswered questions
  function unansweredPanel() {
    return [
      el("form", { id: "kb-un-filters", class: "filters", onsubmit: (ev) => { ev.preventDefault(); loadUnanswered(); } },
        el("label", {}, tr("status"), el("select", { id: "kb-un-status" })),
        el("button", { type: "submit" }, tr("search")),
        el("span", { id: "kb-un-count", class: "muted" })),
      el("div", { id: "kb-un-result", role: "status" }),
      el("ul", { id: "kb-unanswered-list", class: "kb-groups" }),
    ];
  }
  async function loadUnanswered() {
    const status = val("#kb-un-status") || "new";
    const list = $("#kb-unanswered-list"), current = ticket("unanswered");
    try {
      const data = await call(`/api/kb/unanswered?status=${enc(status)}&limit=200`);
      if (!current()) return;
      st.unanswered = data;
      renderUnanswered();
    } catch (e) { list.replaceChildren(el("li", { class: "error" }, t("error") + e.message)); }
  }
  function renderUnanswered() {
    const data = st.unanswered;
    if (!data) return;
    const list = $("#kb-unanswered-list");
    $("#kb-un-count").textContent = fill("kb_un_count", { g: data.total_groups, q: data.questions });
    list.replaceChildren(...data.groups.map((g) => el("li", { class: "kb-group", "data-key": g.key },
      el("div", { class: "kb-group-head" },
        el("span", { class: "kb-count", title: `${g.count} ${t("kb_times")}` }, String(g.count)),
        el("strong", { class: "kb-group-q" }, g.question),
        el("span", { class: "tag" }, g.language),
        el("span", { class: "muted" }, D.fmtTime(g.last_at))),
      g.examples.length > 1 ? el("div", { class: "kb-examples muted" }, t("kb_also_asked") + g.examples.filter((x) => x !== g.question).join(" / ")) : "",
      el("div", { class: "kb-group-actions" },
        data.status === "new" ? el("button", { type: "button", class: "kb-add-faq", onclick: () => addAsFaq(g) }, t("kb_add_as_faq")) : "",
        data.status === "new" ? el("button", { type: "button", class: "secondary kb-ignore", onclick: () => ignoreGroup(g) }, t("kb_ignore")) : "",
        el("button", { type: "button", class: "secondary kb-try", onclick: () => hitTestOf(g.question) }, t("kb_try_hit"))))));
    if (!data.groups.length) list.append(el("li", { class: "muted" }, t("kb_no_unanswered")));
  }
  function addAsFaq(group) {
    st.answering = { ids: group.ids, count: group.count, question: group.question };
    openTab("faq");
    openEditor(null, { language: group.language, question: group.question });
  }
  async function ignoreGroup(group) {
    try {
      const data = await call("/api/kb/unanswered/ignore", { method: "POST", body: { ids: group.ids } });
      say($("#kb-un-result"), fill("kb_ignored", { n: data.updated }), "ok");
      await loadUnanswered();
    } catch (e) { failed($("#kb-un-result"), e); }
  }

  // ------------------------------------------------------------ first-run setup
  // The demo's facts (knowledge/sources/demo_facts.yaml via GET /api/kb/setup): phone numbers as a
  // list of {number, label...} or a {number: label} mapping.
  function demoPhones(facts) {
    const phones = (facts && facts.phones) || [];
    const label = (p) => {
      if (typeof p === "string") return p;
      if (!p) return "";
      const l = D.lang();
      return p["label_" + l] || p[l] || p.label || p.what || p.name || p.description || p.label_zh || p.zh || "";
    };
    if (Array.isArray(phones)) return phones.map((p) => ({ number: String(p.number || p.phone || p), label: label(p) }));
    return Object.entries(phones).map(([number, p]) => ({ number, label: label(p) }));
  }
  function fact(facts, key) {
    if (!facts) return "";
    const [base, l] = [key.slice(0, -3), key.slice(-2)];
    const v = facts[key] != null ? facts[key] : facts[base];
    return v && typeof v === "object" ? (v[l] || "") : (v || "");
  }
  async function loadSetup() {
    const box = $("#kb-setup"), current = ticket("setup");
    try {
      const data = await call("/api/kb/setup");
      if (!current()) return;
      st.setup = data;
    } catch (e) { return failed(box, e); }
    renderSetup();
  }
  function renderSetup() {
    const data = st.setup, box = $("#kb-setup");
    if (!data) return;
    const facts = data.demo_facts || {}, profile = data.profile || {};
    const field = (key, label, required) => el("label", {}, tr(label),
      el("input", { name: key, value: profile[key] || "", placeholder: fact(facts, key) || "", maxlength: 200,
        required: required ? "" : null, type: key === "email" ? "email" : "text" }));
    box.replaceChildren(
      el("p", { class: data.demo ? "kb-demo" : "muted" }, t(data.demo ? "kb_setup_demo" : "kb_setup_custom")),
      el("form", { id: "kb-setup-form", class: "kb-setup", onsubmit: customise },
        el("h3", {}, tr("kb_setup_customise")),
        el("p", { class: "muted" }, tr("kb_setup_customise_hint")),
        el("div", { class: "kb-setup-grid" },
          field("community_name_zh", "kb_community_zh", true), field("community_name_en", "kb_community_en", true),
          field("office_hours_zh", "kb_hours_zh", true), field("office_hours_en", "kb_hours_en", true),
          facts.email ? field("email", "kb_email", false) : ""),
        el("h4", {}, tr("kb_setup_phones")),
        el("table", { class: "kb-phones" },
          el("thead", {}, el("tr", {}, th("kb_phone_what"), th("kb_phone_demo"), th("kb_phone_new"))),
          el("tbody", {}, ...demoPhones(facts).map((p) => el("tr", {},
            el("td", {}, p.label), el("td", { class: "kb-number" }, p.number),
            el("td", {}, el("input", { type: "tel", "data-phone": p.number, value: (profile.phones || {})[p.number] || "",
              maxlength: 40, required: "" })))))),
        el("button", { type: "submit", id: "kb-setup-apply" }, tr("kb_setup_apply"))),
      el("div", { class: "kb-setup-empty" },
        el("h3", {}, tr("kb_setup_empty")), el("p", { class: "muted" }, tr("kb_setup_empty_hint")),
        el("button", { type: "button", class: "danger", id: "kb-setup-empty", onclick: startEmpty }, tr("kb_setup_empty_button"))),
      el("div", { id: "kb-setup-result", role: "status" }));
  }
  async function applySetup(body) {
    const result = $("#kb-setup-result");
    try {
      const data = await call("/api/kb/setup", { method: "POST", body });
      say(result, fill("kb_setup_done", { r: data.replaced, d: data.deleted }), "ok");
      if (data.job) trackJob(data.job);
      await Promise.all([loadSetup(), loadStatus()]);
    } catch (e) {
      if (e.code === "job_running" && e.data && e.data.job) trackJob(e.data.job);
      failed(result, e);
    }
  }
  function customise(ev) {
    ev.preventDefault();
    const form = $("#kb-setup-form");
    const body = { mode: "customise", phones: {} };
    ["community_name_zh", "community_name_en", "office_hours_zh", "office_hours_en", "email"].forEach((k) => {
      if (form.elements[k] && form.elements[k].value.trim()) body[k] = form.elements[k].value.trim();
    });
    form.querySelectorAll("input[data-phone]").forEach((input) => { body.phones[input.dataset.phone] = input.value.trim(); });
    if (!confirm(t("kb_setup_confirm"))) return;
    applySetup(body);
  }
  function startEmpty() {
    if (!confirm(t("kb_setup_empty_confirm"))) return;
    applySetup({ mode: "empty" });
  }

  // ------------------------------------------------------------ registration
  function load() {
    if (!st.built) build();
    loadStatus();
    openTab(st.tab);
  }
  function rerender() {
    if (!st.built) return;
    fillOptions();
    renderStatus();
    if (st.lastJob) renderJob(st.lastJob);
    ({ faq: renderFaq, docs: loadDocs, index: loadVersions, hit: renderHit, unanswered: renderUnanswered, setup: renderSetup })[st.tab]();
  }
  D.view("kb", { load, rerender, roles: ["editor", "admin"] });
  D.on("lang", () => { if (st.built) { fillOptions(); renderStatus(); } });
})();
