/* Linli desk: the dashboards view, drawn with charts.js (inline SVG, no external resources).
 *
 * Tickets opened / resolved per day (GET /api/stats/tickets-per-day?days=30), open tickets by
 * age with the oldest ones (/api/stats/open-by-age), residents' satisfaction
 * (/api/stats/satisfaction?days=30; a 404 while that feature is not installed reads as "no
 * ratings yet") and the questions the knowledge base could not answer (/api/stats/unanswered).
 * Each card loads on its own, so one failing route leaves the others drawn. Refreshed every
 * 60 s while the view is visible, redrawn on resize and language change from the last data.
 */
"use strict";
(function () {
  const D = window.LinliDesk;
  const C = window.LinliCharts;
  const { el, $, t } = D;
  const REFRESH_MS = 60000;
  const DAYS = 30;

  D.strings({
    zh: {
      dash_satisfaction: "居民满意度（近30天）", sat_none: "暂无评分", sat_ratings: "条评分", sat_out_of: "/ 5 分",
      sat_distribution: "评分分布", sat_trend: "每日平均分", sat_recent: "最近的意见", stars: "星",
      dash_totals: "近{days}天合计：新增 {opened}，已解决 {resolved}", dash_no_tickets: "近30天没有工单",
      dash_no_open: "没有未完成的工单", dash_no_unanswered: "暂无未能回答的问题", dash_updated: "更新于",
      dash_count: "数量", days_short: "天", dash_top_unanswered: "高频未回答问题",
    },
    en: {
      dash_satisfaction: "Satisfaction (30 days)", sat_none: "no ratings yet", sat_ratings: "ratings", sat_out_of: "/ 5",
      sat_distribution: "Ratings", sat_trend: "Average per day", sat_recent: "Latest comments", stars: "stars",
      dash_totals: "{days} days: {opened} opened, {resolved} resolved", dash_no_tickets: "No tickets in the last 30 days",
      dash_no_open: "No open tickets", dash_no_unanswered: "No unanswered questions yet", dash_updated: "Updated",
      dash_count: "count", days_short: "d", dash_top_unanswered: "Most frequent unanswered questions",
    },
  });

  let last = {};          // the latest answer of each route, redrawn on resize / language change
  let timer = null;

  const visible = () => !$("#view-dashboards").hidden && !!D.me();
  const widthOf = (node) => Math.max(260, Math.floor((node && node.clientWidth) || 600));
  const fill = (text, values) => Object.entries(values).reduce((s, [k, v]) => s.replace(`{${k}}`, v), text);
  const failed = (e) => el("p", { class: "error" }, t("error") + e.message);
  // "12-02 01:01" in the browser's time zone (the API's timestamps are UTC).
  const shortTime = (iso) => (iso && !Number.isNaN(Date.parse(iso)) ? new Date(iso).toLocaleString(D.lang() === "zh" ? "zh-CN" : "en-GB",
    { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }) : "");

  /** GET that answers null on 404 (an optional feature not installed yet); other errors throw. */
  async function optional(path) {
    const res = await fetch(path, { credentials: "same-origin" });
    if (res.status === 404) return null;
    if (res.status === 401) return D.api(path); // api() shows the login form
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) throw new Error((data && data.message) || res.statusText);
    return data;
  }

  function drawPerDay(box, data) {
    const series = [{ key: "opened", name: t("opened") }, { key: "resolved", name: t("resolved") }];
    const rows = data.days.map((d) => ({ label: d.day.slice(5), title: d.day, values: { opened: d.opened, resolved: d.resolved } }));
    box.replaceChildren(
      C.columns(rows, series, { width: widthOf(box), height: 210, label: t("dash_per_day"), empty: t("dash_no_tickets") }),
      el("div", { class: "chart-foot" }, C.legend(series),
        el("span", { class: "muted totals" }, fill(t("dash_totals"), { days: data.days.length, opened: data.total_opened, resolved: data.total_resolved }))));
  }

  function drawByAge(box, data) {
    const rows = data.buckets.map((b, i) => ({ label: t(b.bucket), value: b.count, cls: "s-age" + i }));
    box.replaceChildren(
      C.hbars(rows, { width: widthOf(box), labelWidth: 80, label: t("dash_by_age"), empty: t("dash_no_open") }),
      el("h3", {}, `${t("oldest")} (${data.total})`),
      data.oldest.length
        ? el("table", { class: "compact oldest" }, el("tbody", {}, ...data.oldest.map((o) => el("tr", {},
          el("td", {}, o.number), el("td", {}, el("span", { class: "tag st-" + o.status }, D.lbl(o.status))),
          el("td", {}, D.lbl(o.category)), el("td", {}, o.unit || "-"), el("td", { class: "num" }, `${o.age_days}${t("days_short")}`)))))
        : el("p", { class: "muted" }, t("dash_no_open")));
  }

  function drawSatisfaction(box, data) {
    if (!data || !data.count) {
      box.replaceChildren(el("p", { class: "muted sat-empty" }, t("sat_none")));
      return;
    }
    const dist = data.distribution || {};
    const rows = [5, 4, 3, 2, 1].map((r) => ({ label: `${r} ★`, title: `${r} ${t("stars")}`, value: dist[String(r)] || 0, cls: "s-r" + r }));
    const width = widthOf(box);
    const perDay = (data.per_day || []).map((d) => ({ label: d.day.slice(5), title: d.day, value: d.count ? d.average : null }));
    const comments = (data.recent || []).filter((r) => r.comment).slice(0, 5);
    const average = Number(data.average || 0);
    box.replaceChildren(
      el("p", { class: "sat-headline" },
        el("strong", { class: "sat-average", "data-average": average.toFixed(2) }, average.toFixed(1)),
        ` ${t("sat_out_of")} · `, el("span", { class: "sat-count", "data-count": data.count }, String(data.count)), ` ${t("sat_ratings")}`),
      el("h3", {}, t("sat_distribution")),
      C.hbars(rows, { width, labelWidth: 56, max: Math.max(1, ...rows.map((r) => r.value)), label: t("sat_distribution") }),
      ...(perDay.some((p) => p.value != null)
        ? [el("h3", {}, t("sat_trend")), C.line(perDay, { width, height: 130, min: 1, max: 5, key: "sat", name: t("sat_trend"), label: t("sat_trend") })]
        : []),
      ...(comments.length
        ? [el("h3", {}, t("sat_recent")), el("ul", { class: "comments" }, ...comments.map((c) => el("li", {},
          el("span", { class: "tag" }, `${c.rating} ★`), " ", c.comment, el("span", { class: "muted" }, ` · ${D.fmtTime(c.at)}`))))]
        : []));
  }

  function drawUnanswered(box, data) {
    const width = widthOf(box);
    const top = (data.top || []).slice(0, 10);
    const chartWidth = width > 900 ? Math.floor(width * 0.58) : width;
    box.replaceChildren(
      el("div", { class: "two-col unanswered" },
        el("div", {}, el("h3", {}, t("dash_top_unanswered")),
          top.length
            ? C.hbars(top.map((q) => ({ label: q.question, title: q.question, value: q.count, cls: "s-unanswered" })),
              { width: chartWidth - 8, labelWidth: Math.floor(chartWidth * 0.55), label: t("dash_top_unanswered") })
            : el("p", { class: "muted" }, t("dash_no_unanswered"))),
        el("div", {}, el("h3", {}, t("latest")),
          el("ul", { class: "latest" }, ...(data.latest || []).slice(0, 12).map((q) => el("li", {},
            el("span", { class: "muted" }, `${shortTime(q.ts)} · `), q.question))))),
      data.error ? el("p", { class: "error" }, data.error) : "");
  }

  const CARDS = [
    { id: "#chart-per-day", key: "perDay", get: () => D.api(`/api/stats/tickets-per-day?days=${DAYS}`), draw: drawPerDay },
    { id: "#chart-by-age", key: "byAge", get: () => D.api("/api/stats/open-by-age"), draw: drawByAge },
    { id: "#chart-satisfaction", key: "satisfaction", get: () => optional(`/api/stats/satisfaction?days=${DAYS}`), draw: drawSatisfaction },
    { id: "#unanswered", key: "unanswered", get: () => D.api("/api/stats/unanswered?limit=200"), draw: drawUnanswered },
  ];

  function redraw() {
    if (!visible()) return;
    CARDS.forEach((c) => {
      if (!(c.key in last)) return;
      const box = $(c.id);
      const entry = last[c.key];
      try { if (entry.error) box.replaceChildren(failed(entry.error)); else c.draw(box, entry.data); }
      catch (e) { console.error(e); box.replaceChildren(failed(e)); }
    });
  }

  /** Fetch every card's data (in parallel) and draw each as soon as it arrives. */
  async function load() {
    if (!D.me()) return;
    await Promise.all(CARDS.map(async (c) => {
      try { last[c.key] = { data: await c.get() }; }
      catch (e) { if (e.message === "unauthenticated") return; last[c.key] = { error: e }; }
      if (visible()) {
        const box = $(c.id);
        try { if (last[c.key].error) box.replaceChildren(failed(last[c.key].error)); else c.draw(box, last[c.key].data); }
        catch (e) { console.error(e); box.replaceChildren(failed(e)); }
      }
    }));
    $("#dash-updated").textContent = `${t("dash_updated")} ${new Date().toLocaleTimeString(D.lang() === "zh" ? "zh-CN" : "en-GB")}`;
    $("#view-dashboards").dataset.loaded = String(Date.now());
    clearInterval(timer);
    timer = setInterval(() => { if (visible() && !document.hidden) load(); }, REFRESH_MS);
  }

  /** A feature's own dashboard card (assist.js: suggested replies): { key, title (i18n key), get(), draw(box, data), wide }.
   * The card is added to the grid and loads, refreshes and redraws with the others. */
  window.LinliDashboards = {
    add(card) {
      const id = "dash-" + card.key;
      $("#view-dashboards .grid").append(el("div", { class: card.wide ? "card wide" : "card" },
        el("h2", { "data-i18n": card.title }, t(card.title)), el("div", { id, class: "chart-box" })));
      CARDS.push(Object.assign({ id: "#" + id }, card));
    },
  };

  let resizeTimer = null;
  window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(redraw, 200); });
  // A language switch redraws from the data already fetched (the texts change, the figures do not).
  D.view("dashboards", { load, rerender: () => (Object.keys(last).length ? redraw() : load()) });
})();
