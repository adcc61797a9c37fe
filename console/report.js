// The connection-test report: a summary line and one row per check with its mark.

import { h, formatElapsed } from "./dom.js";

const CHECK_LABELS = {
  url_valid: "URL is valid",
  dns_resolves: "Host name resolves",
  address_allowed: "Address is allowed",
  connects: "Connects",
  no_redirect: "Does not redirect",
  status_200: "Answers 200 OK",
  responds_in_time: "Responds in time",
  signature: "Signed request",
};

const MARKS = {
  pass: { icon: "✓", text: "Pass" },
  warn: { icon: "!", text: "Warning" },
  fail: { icon: "✕", text: "Fail" },
  skipped: { icon: "–", text: "Skipped" },
};

export function checkLabel(check) {
  return CHECK_LABELS[check] ?? String(check).replaceAll("_", " ");
}

/** A <section> with the verdict, status code, time and every check. */
export function renderReport(report, { headingLevel = "h3" } = {}) {
  const warnings = report.checks.filter((c) => c.status === "warn").length;
  const verdict = report.ok
    ? (warnings ? `Passed with ${warnings} warning${warnings === 1 ? "" : "s"}` : "All checks passed")
    : "The endpoint failed the test";
  return h("section", { class: "report", "aria-label": "Connection test result", dataset: { ok: String(report.ok) } },
    h("div", { class: `report-summary ${report.ok ? "report-ok" : "report-failed"}` },
      h(headingLevel, { class: "report-verdict", text: verdict }),
      h("dl", { class: "report-facts" },
        h("div", {}, h("dt", { text: "URL" }), h("dd", { class: "mono", text: report.url })),
        h("div", {}, h("dt", { text: "Status" }), h("dd", { class: "report-status", text: report.status_code ?? "—" })),
        h("div", {}, h("dt", { text: "Time" }), h("dd", { class: "report-elapsed", text: formatElapsed(report.elapsed_ms) })))),
    h("ul", { class: "checks" }, report.checks.map((check) => {
      const mark = MARKS[check.status] ?? { icon: "?", text: check.status };
      return h("li", { class: `check check-${check.status}`, dataset: { check: check.check, status: check.status } },
        h("span", { class: "check-mark", "aria-hidden": "true", text: mark.icon }),
        h("span", { class: "check-name", text: checkLabel(check.check) }),
        h("span", { class: "check-status", text: mark.text }),
        h("span", { class: "check-detail", text: check.detail }));
    })));
}
