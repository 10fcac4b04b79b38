/* Satisfaction on the ticket page; registers with window.LinliDesk (see console.js).
 *
 * When a ticket is resolved the resident is asked for a 1-5 rating and an optional comment on
 * their own channel (bot/satisfaction). The ticket JSON carries it as `rating`
 * ({rating, comment, at} or null); this shows it under the description. The dashboard's
 * satisfaction chart is drawn by dashboards.js from GET /api/stats/satisfaction.
 */
"use strict";
(function () {
  const D = window.LinliDesk;
  const { el, t } = D;

  D.strings({
    zh: { sat_title: "居民评价", sat_none_ticket: "居民尚未评分", sat_score: "{n} / 5 分", sat_no_comment: "（无留言）",
          sat_rated_at: "评价时间" },
    en: { sat_title: "Resident's rating", sat_none_ticket: "Not rated by the resident yet", sat_score: "{n} / 5",
          sat_no_comment: "(no comment)", sat_rated_at: "Rated" },
  });

  const stars = (n) => "★".repeat(n) + "☆".repeat(5 - n);

  function block(rating) {
    if (!rating) {
      return el("div", { class: "sat-ticket sat-unrated" }, el("h3", {}, t("sat_title")), el("p", { class: "muted" }, t("sat_none_ticket")));
    }
    const score = Math.max(1, Math.min(5, Number(rating.rating) || 0));
    return el("div", { class: "sat-ticket sat-rated sat-r" + score, "data-rating": score },
      el("h3", {}, t("sat_title")),
      el("p", { class: "sat-line" },
        el("span", { class: "sat-stars", "aria-hidden": "true" }, stars(score)), " ",
        el("strong", { class: "sat-score" }, t("sat_score").replace("{n}", score)),
        el("span", { class: "muted" }, ` · ${t("sat_rated_at")} ${D.fmtTime(rating.at)}`)),
      el("p", { class: rating.comment ? "sat-comment" : "sat-comment muted" }, rating.comment || t("sat_no_comment")));
  }

  D.on("ticket", (tk, page) => {
    const old = page.querySelector(".sat-ticket");
    if (old) old.remove();
    const node = block(tk.rating);
    const description = page.querySelector(".description");
    if (description) description.after(node); else page.append(node);
  });
})();
