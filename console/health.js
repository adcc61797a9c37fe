// A webhook's health: on its log page, a bar chart of succeeded and failed attempts
// per bucket (inline SVG drawn here) with the success rate and p95, the same numbers
// as text in a details element, and a window picker; in the webhooks list, a dot and
// the success rate over 24 hours, fetched when the row comes into view.

import { api } from "./api.js";
import { formatElapsed, formatTime, h, replace } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WINDOWS = [["1h", "Last hour"], ["24h", "Last 24 hours"], ["7d", "Last 7 days"]];
const CHART_WIDTH = 480;
const CHART_HEIGHT = 96;
/** At most this many list rows ask for their stats at once. */
const LIST_CONCURRENCY = 4;

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  for (const child of children) element.append(child);
  return element;
}

/** "92.5%", or "—" without attempts. */
export function formatRate(rate) {
  if (rate === null || rate === undefined) return "—";
  const percent = rate * 100;
  return `${Number.isInteger(percent) ? percent : percent.toFixed(1)}%`;
}

/** The health class of a success rate: good from 99%, poor below 90%. */
export function healthLevel(stats) {
  if (!stats || stats.attempts === 0) return "none";
  if (stats.success_rate >= 0.99) return "good";
  if (stats.success_rate >= 0.9) return "fair";
  return "poor";
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** A bucket's label: its start, as a time (1h, 24h) or a date (7d). */
function bucketLabel(stats, bucket) {
  if (stats.window !== "7d") return formatTime(bucket.start);
  return new Date(bucket.start).toLocaleDateString(undefined, { weekday: "short", month: "short", day: "numeric" });
}

function bucketText(stats, bucket) {
  const p95 = bucket.p95_ms === null ? "" : `, p95 ${formatElapsed(bucket.p95_ms)}`;
  return `${bucketLabel(stats, bucket)}: ${bucket.succeeded} succeeded, ${bucket.failed} failed${p95}`;
}

function summaryText(stats) {
  if (stats.attempts === 0) return "No attempts in this window.";
  const p95 = stats.latency_ms ? `, p95 ${formatElapsed(stats.latency_ms.p95)}` : "";
  return `${formatRate(stats.success_rate)} succeeded of ${plural(stats.attempts, "attempt", "attempts")} (${stats.failed} failed)${p95}.`;
}

/** The stacked bars, one per bucket: succeeded at the bottom, failed on top. */
export function chart(stats) {
  const highest = Math.max(1, ...stats.buckets.map((b) => b.succeeded + b.failed));
  const slot = CHART_WIDTH / stats.buckets.length;
  const width = Math.max(1, slot - 2);
  const bars = stats.buckets.map((bucket, index) => {
    const x = index * slot + 1;
    const okHeight = (bucket.succeeded / highest) * CHART_HEIGHT;
    const failedHeight = (bucket.failed / highest) * CHART_HEIGHT;
    return svg("g", { class: "stats-bar", "data-start": bucket.start, "data-succeeded": bucket.succeeded, "data-failed": bucket.failed },
      svg("title", {}, bucketText(stats, bucket)),
      svg("rect", { class: "stats-bar-bg", x, y: 0, width, height: CHART_HEIGHT }),
      svg("rect", { class: "stats-bar-succeeded", x, y: CHART_HEIGHT - okHeight, width, height: okHeight }),
      svg("rect", { class: "stats-bar-failed", x, y: CHART_HEIGHT - okHeight - failedHeight, width, height: failedHeight }));
  });
  return svg("svg", {
    class: "stats-chart", viewBox: `0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`, preserveAspectRatio: "none",
    role: "img", "aria-label": `Attempts per bucket: ${summaryText(stats)} The numbers are listed below.`,
  }, ...bars);
}

function figures(stats) {
  const figure = (label, value, name) => h("div", { class: "stats-figure", dataset: { figure: name } },
    h("span", { class: "stats-figure-value", text: value }), h("span", { class: "stats-figure-label", text: label }));
  return h("div", { class: "stats-figures" },
    figure("success rate", formatRate(stats.success_rate), "rate"),
    figure("p95", stats.latency_ms ? formatElapsed(stats.latency_ms.p95) : "—", "p95"),
    figure("p50", stats.latency_ms ? formatElapsed(stats.latency_ms.p50) : "—", "p50"),
    figure("attempts", String(stats.attempts), "attempts"),
    figure("failed", String(stats.failed), "failed"));
}

/** The numbers of every bucket, as text. */
function numbers(stats) {
  return h("details", { class: "stats-numbers" },
    h("summary", { text: "Numbers per bucket" }),
    h("ol", { class: "stats-list" }, stats.buckets.map((bucket) => h("li", { text: bucketText(stats, bucket) }))),
    h("p", { class: "muted" },
      stats.last_success_at ? `Last success ${formatTime(stats.last_success_at)}. ` : "No success recorded. ",
      stats.last_failure_at ? `Last failure ${formatTime(stats.last_failure_at)}.` : "No failure recorded."));
}

/** The health section of the log page; `refresh()` reads the stats again. */
export function healthSection(webhookId) {
  const pickerId = "stats-window";
  const picker = h("select", { id: pickerId, class: "select" },
    WINDOWS.map(([value, label]) => h("option", { value, text: label, selected: value === "24h" })));
  const body = h("div", { class: "stats-body", "aria-busy": "true" }, h("p", { class: "muted", text: "Loading the stats…" }));
  const section = h("section", { class: "card stats", "aria-labelledby": "stats-title" },
    h("div", { class: "stats-head" },
      h("h2", { id: "stats-title", class: "stats-title", text: "Health" }),
      h("div", { class: "toolbar-field" }, h("label", { for: pickerId, class: "label", text: "Window" }), picker)),
    body);

  async function refresh() {
    body.setAttribute("aria-busy", "true");
    try {
      const stats = await api.stats(webhookId, picker.value);
      replace(body,
        figures(stats),
        h("p", { class: "stats-summary", text: summaryText(stats) }),
        h("div", { class: "stats-chart-wrap" }, chart(stats),
          h("div", { class: "stats-axis muted", "aria-hidden": "true" },
            h("span", { text: bucketLabel(stats, stats.buckets[0]) }),
            h("span", { text: "now" }))),
        numbers(stats));
    } catch (error) {
      replace(body, h("p", { class: "muted", text: error.status === 404 ? "No stats: this webhook does not exist." : "The stats could not be loaded." }));
    } finally {
      body.removeAttribute("aria-busy");
    }
  }
  picker.addEventListener("change", refresh);
  return { section, refresh };
}

let running = 0;
const waiting = [];

/** Runs `task` once fewer than LIST_CONCURRENCY others run. */
async function limited(task) {
  if (running >= LIST_CONCURRENCY) await new Promise((resolve) => { waiting.push(resolve); });
  running += 1;
  try {
    return await task();
  } finally {
    running -= 1;
    waiting.shift()?.();
  }
}

function showIndicator(indicator, stats) {
  const level = healthLevel(stats);
  const described = stats.attempts === 0
    ? "No attempts in the last 24 hours"
    : `${formatRate(stats.success_rate)} of ${plural(stats.attempts, "attempt", "attempts")} succeeded in the last 24 hours`;
  indicator.dataset.level = level;
  indicator.title = described;
  replace(indicator,
    h("span", { class: `health-dot health-${level}`, "aria-hidden": "true" }),
    h("span", { class: "health-rate", "aria-hidden": "true", text: formatRate(stats.success_rate) }),
    h("span", { class: "visually-hidden", text: described }));
}

/** A list row's health over 24 hours, read when it first comes into view. */
export function healthIndicator(webhookId) {
  const indicator = h("span", { class: "health", dataset: { level: "loading" } },
    h("span", { class: "health-dot health-none", "aria-hidden": "true" }),
    h("span", { class: "visually-hidden", text: "Loading the success rate" }));
  const load = () => limited(() => api.stats(webhookId, "24h"))
    .then((stats) => showIndicator(indicator, stats))
    .catch(() => replace(indicator, h("span", { class: "muted", text: "—", title: "The stats could not be loaded" })));
  if (typeof IntersectionObserver === "undefined") {
    load();
    return indicator;
  }
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) {
      observer.disconnect();
      load();
    }
  });
  observer.observe(indicator);
  return indicator;
}
