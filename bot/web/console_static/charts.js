/* Linli desk charts: a tiny SVG chart kit, no external resources.
 *
 * CSP-safe: everything is drawn with SVG elements, attributes and CSS classes (no inline
 * style attributes, no innerHTML). Each chart is an <svg role="img"> whose aria-label and
 * <title> carry the figures, and every bar/point has its own <title> (tooltip) and
 * data-value, so screen readers and tests read the same numbers the API gave.
 *
 *   LinliCharts.columns(rows, series, opts)  vertical bars per row (grouped, or opts.stacked)
 *   LinliCharts.hbars(rows, opts)            horizontal bars with a label column
 *   LinliCharts.line(points, opts)           a line with dots; null values leave gaps
 *   LinliCharts.legend(series)               an HTML legend for columns/line series
 *
 * rows: [{ label, title?, values: { key: n } }] (columns) or [{ label, value, title?, cls? }] (hbars);
 * series: [{ key, name }]; the CSS classes "s-<key>" colour them (console.css, "charts").
 * Sizes are in CSS pixels: pass opts.width = the container's width so text is drawn 1:1.
 */
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";

  /** An SVG element; attrs with null/undefined values are skipped, children may be strings. */
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(NS, tag);
    Object.entries(attrs || {}).forEach(([k, v]) => { if (v !== null && v !== undefined) node.setAttribute(k, String(v)); });
    children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c))));
    return node;
  }
  const title = (text) => svg("title", {}, text);
  const fmt = (v) => (v == null ? "-" : Number.isInteger(v) ? String(v) : v.toFixed(1));

  /** Axis ticks 0..top with a 1/2/5 step; at most ``count`` intervals. */
  function ticks(max, count) {
    if (!(max > 0)) return { top: 1, step: 1 };
    const raw = max / (count || 4);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw && (s >= 1 || s === raw)) || raw;
    const whole = Math.max(1, step);
    return { top: Math.ceil(max / whole) * whole, step: whole };
  }

  /** The chart's frame: role="img", an aria-label with the figures and a <title>. */
  function frame(width, height, label, cls) {
    const node = svg("svg", { class: "chart " + (cls || ""), role: "img", "aria-label": label, width: "100%",
      viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "xMinYMin meet" });
    node.append(title(label));
    return node;
  }

  /** A text cut to about ``px`` CSS pixels (CJK counts as one em, others as ~0.58 em). */
  function fit(text, px, fontSize) {
    let used = 0;
    let out = "";
    for (const ch of String(text)) {
      used += /[\u2e80-\u9fff\uff00-\uffef]/.test(ch) ? fontSize : fontSize * 0.58;
      if (used > px) return out.replace(/\s+$/, "") + "…";
      out += ch;
    }
    return out;
  }

  /** Summary for the aria-label: "label: name n, name n; ..." of the rows that are not all zero. */
  function summary(heading, rows, series, empty) {
    const parts = rows.filter((r) => series.some((s) => (r.values[s.key] || 0) !== 0))
      .map((r) => `${r.title || r.label}: ${series.map((s) => `${s.name} ${fmt(r.values[s.key] || 0)}`).join(", ")}`);
    return `${heading}. ${parts.length ? parts.join("; ") : (empty || "0")}`;
  }

  /**
   * Vertical bars with a y axis, grid lines, x labels (thinned out to fit) and the value
   * over each non-zero bar. opts: width, height, stacked, label (heading), empty (text when all 0).
   */
  function columns(rows, series, opts) {
    const o = Object.assign({ width: 640, height: 220 }, opts || {});
    const W = Math.max(240, o.width), H = o.height;
    const m = { left: 34, right: 8, top: 16, bottom: 24 };
    const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
    const totals = rows.map((r) => (o.stacked ? series.reduce((a, s) => a + (r.values[s.key] || 0), 0)
      : Math.max(0, ...series.map((s) => r.values[s.key] || 0))));
    const { top, step } = ticks(Math.max(0, ...totals), 4);
    const y = (v) => m.top + ph - (ph * v) / top;
    const chart = frame(W, H, summary(o.label || "", rows, series, o.empty), "columns");
    const grid = svg("g", { class: "axis", "aria-hidden": "true" });
    for (let v = 0; v <= top + 1e-9; v += step) {
      grid.append(svg("line", { class: v === 0 ? "baseline" : "gridline", x1: m.left, x2: W - m.right, y1: y(v), y2: y(v) }),
        svg("text", { x: m.left - 4, y: y(v) + 4, "text-anchor": "end" }, fmt(v)));
    }
    chart.append(grid);
    const band = pw / Math.max(1, rows.length);
    const groupWidth = band * (o.stacked ? 0.7 : 0.84);
    const barWidth = o.stacked ? groupWidth : groupWidth / series.length;
    const every = Math.max(1, Math.ceil(38 / band)); // x labels about 38 px apart at least
    const bars = svg("g", { class: "bars" });
    const labels = svg("g", { class: "axis x", "aria-hidden": "true" });
    rows.forEach((r, i) => {
      const x0 = m.left + i * band + (band - groupWidth) / 2;
      let base = 0;
      const group = svg("g", { class: "group", "data-label": r.label });
      series.forEach((s, j) => {
        const v = r.values[s.key] || 0;
        const x = o.stacked ? x0 : x0 + j * barWidth;
        const y1 = y(base + v), y0 = y(base);
        const tip = `${r.title || r.label} · ${s.name}: ${fmt(v)}`;
        group.append(svg("rect", { class: "bar s-" + s.key, x: x.toFixed(2), y: y1.toFixed(2), width: Math.max(1, barWidth - 1).toFixed(2),
          height: Math.max(0, y0 - y1).toFixed(2), "data-series": s.key, "data-value": v, "aria-label": tip }, title(tip)));
        if (v && !o.stacked) {
          group.append(svg("text", { class: "value", x: (x + barWidth / 2).toFixed(2), y: (y1 - 3).toFixed(2), "text-anchor": "middle",
            "data-series": s.key, "aria-hidden": "true" }, fmt(v)));
        }
        if (o.stacked) base += v;
      });
      if (o.stacked && totals[i]) {
        group.append(svg("text", { class: "value", x: (x0 + groupWidth / 2).toFixed(2), y: (y(totals[i]) - 3).toFixed(2),
          "text-anchor": "middle", "aria-hidden": "true" }, fmt(totals[i])));
      }
      bars.append(group);
      if ((rows.length - 1 - i) % every === 0) { // counted from the newest, which is always labelled
        labels.append(svg("text", { x: (m.left + i * band + band / 2).toFixed(2), y: H - 8, "text-anchor": "middle" }, r.label));
      }
    });
    chart.append(bars, labels);
    return chart;
  }

  /**
   * Horizontal bars: label | bar | value, one row each. opts: width, labelWidth (px),
   * max (scale; default the largest value), label (heading), empty, format(v).
   */
  function hbars(rows, opts) {
    const o = Object.assign({ width: 640, rowHeight: 24, labelWidth: 120, format: fmt }, opts || {});
    const W = Math.max(240, o.width), valueWidth = 44;
    const H = Math.max(1, rows.length) * o.rowHeight + 4;
    const max = o.max || Math.max(1, ...rows.map((r) => r.value || 0));
    const pw = W - o.labelWidth - valueWidth - 8;
    const parts = rows.map((r) => `${r.title || r.label}: ${o.format(r.value || 0)}`);
    const chart = frame(W, H, `${o.label || ""}. ${parts.length ? parts.join("; ") : (o.empty || "0")}`, "hbars");
    rows.forEach((r, i) => {
      const yTop = 2 + i * o.rowHeight, v = r.value || 0;
      const len = (pw * v) / max;
      const tip = `${r.title || r.label}: ${o.format(v)}`;
      chart.append(svg("g", { class: "row", "data-label": r.title || r.label, "data-value": v },
        svg("text", { class: "label", x: o.labelWidth - 6, y: yTop + o.rowHeight / 2 + 4, "text-anchor": "end" },
          fit(r.label, o.labelWidth - 10, 12), title(r.title || r.label)),
        svg("rect", { class: "track", x: o.labelWidth, y: yTop + 3, width: pw.toFixed(2), height: o.rowHeight - 6, rx: 2 }),
        svg("rect", { class: "bar " + (r.cls || "s-count"), x: o.labelWidth, y: yTop + 3, width: Math.max(v ? 2 : 0, len).toFixed(2),
          height: o.rowHeight - 6, rx: 2, "data-value": v, "aria-label": tip }, title(tip)),
        svg("text", { class: "value", x: (o.labelWidth + len + 4).toFixed(2), y: yTop + o.rowHeight / 2 + 4 }, o.format(v))));
    });
    return chart;
  }

  /**
   * A line over evenly spaced points; a null value is a gap. opts: width, height, min, max,
   * key (CSS series key), name, label (heading), empty.
   */
  function line(points, opts) {
    const o = Object.assign({ width: 640, height: 160, min: 0, key: "line", name: "" }, opts || {});
    const W = Math.max(240, o.width), H = o.height;
    const m = { left: 34, right: 20, top: 12, bottom: 24 }; // room for the last x label
    const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
    const values = points.map((p) => p.value).filter((v) => v != null);
    const hi = o.max != null ? o.max : ticks(Math.max(0, ...values), 4).top;
    const lo = o.min;
    const x = (i) => m.left + (points.length > 1 ? (pw * i) / (points.length - 1) : pw / 2);
    const y = (v) => m.top + ph - (ph * (v - lo)) / Math.max(1e-9, hi - lo);
    const parts = points.filter((p) => p.value != null).map((p) => `${p.title || p.label}: ${fmt(p.value)}`);
    const chart = frame(W, H, `${o.label || ""}. ${parts.length ? parts.join("; ") : (o.empty || "-")}`, "line");
    const grid = svg("g", { class: "axis", "aria-hidden": "true" });
    const { step } = ticks(hi - lo, 4);
    for (let v = lo; v <= hi + 1e-9; v += step) {
      grid.append(svg("line", { class: v === lo ? "baseline" : "gridline", x1: m.left, x2: W - m.right, y1: y(v), y2: y(v) }),
        svg("text", { x: m.left - 4, y: y(v) + 4, "text-anchor": "end" }, fmt(v)));
    }
    chart.append(grid);
    let d = "";
    let pen = false;
    points.forEach((p, i) => {
      if (p.value == null) { pen = false; return; }
      d += `${pen ? "L" : "M"}${x(i).toFixed(2)},${y(p.value).toFixed(2)} `;
      pen = true;
    });
    if (d) chart.append(svg("path", { class: "line s-" + o.key, d: d.trim(), fill: "none" }));
    const every = Math.max(1, Math.ceil(42 / (pw / Math.max(1, points.length))));
    const labels = svg("g", { class: "axis x", "aria-hidden": "true" });
    points.forEach((p, i) => {
      if (p.value != null) {
        const tip = `${p.title || p.label}${o.name ? " · " + o.name : ""}: ${fmt(p.value)}`;
        chart.append(svg("circle", { class: "dot s-" + o.key, cx: x(i).toFixed(2), cy: y(p.value).toFixed(2), r: 3.5,
          "data-label": p.label, "data-value": p.value, "aria-label": tip }, title(tip)));
      }
      if ((points.length - 1 - i) % every === 0) {
        labels.append(svg("text", { x: x(i).toFixed(2), y: H - 8, "text-anchor": "middle" }, p.label));
      }
    });
    chart.append(labels);
    return chart;
  }

  /** An HTML legend: a coloured swatch (class s-<key>) and the name of each series. */
  function legend(series) {
    const list = document.createElement("ul");
    list.className = "chart-legend";
    series.forEach((s) => {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch s-" + s.key;
      swatch.setAttribute("aria-hidden", "true");
      item.append(swatch, document.createTextNode(s.name));
      list.append(item);
    });
    return list;
  }

  window.LinliCharts = { columns, hbars, line, legend, ticks, fit };
})();
