// The delivery log of one webhook: its health chart above, the attempts newest first,
// filtered by outcome, refreshed every few seconds while the tab is visible, one
// delivery's attempts in a dialog, and Redeliver.

import { api, apiBase } from "./api.js";
import { formatElapsed, h, replace, timeElement } from "./dom.js";
import { healthSection } from "./health.js";
import { openDialog, status } from "./ui.js";

const OUTCOMES = ["succeeded", "retrying", "exhausted", "failed", "rejected", "disabled"];
const PAGE_SIZE = 50;
const REDELIVERY_WAIT_MS = 15000;
/** How often an open log asks for attempts newer than those it shows. */
const AUTO_REFRESH_MS = 5000;

/** One attempt's identity in the log: a delivery and its attempt number. */
const recordKey = (record) => `${record.delivery_id}#${record.attempt}`;

function outcomeBadge(outcome) {
  return h("span", { class: `badge outcome outcome-${outcome}`, text: outcome });
}

function attemptCard(attempt) {
  return h("li", { class: "attempt", dataset: { attempt: String(attempt.attempt), outcome: attempt.outcome } },
    h("div", { class: "attempt-head" },
      h("span", { class: "attempt-number", text: `Attempt ${attempt.attempt}` }),
      outcomeBadge(attempt.outcome),
      h("span", { class: "muted", text: attempt.status_code ? `HTTP ${attempt.status_code}` : "no response" }),
      h("span", { class: "muted", text: formatElapsed(attempt.elapsed_ms) }),
      h("span", { class: "attempt-time muted" }, timeElement(attempt.at))),
    attempt.error ? h("p", { class: "attempt-error", text: attempt.error }) : null,
    attempt.next_attempt_at ? h("p", { class: "muted" }, "Next attempt at ", timeElement(attempt.next_attempt_at)) : null,
    attempt.response_excerpt
      ? h("details", { class: "excerpt" }, h("summary", { text: "Response body" }), h("pre", { class: "mono", text: attempt.response_excerpt }))
      : null);
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** The periods "Redeliver failed…" offers, in hours. */
const RECOVER_PERIODS = [["Last hour", 1], ["Last 6 hours", 6], ["Last 24 hours", 24], ["Last 7 days", 168]];
/** The outcomes it may redeliver; the API's default ones are checked. */
const RECOVER_OUTCOMES = [["exhausted", true], ["failed", true], ["rejected", true], ["disabled", false]];

/**
 * "Redeliver failed…": every delivery of the period whose latest attempt failed gets a
 * new attempt series (POST /webhooks/{id}/recover), going on while the API says more
 * of the period is left. `onChange` refreshes the log behind.
 */
function recoverDialog(webhookId, returnFocus, onChange) {
  const periodId = "recover-period";
  const period = h("select", { id: periodId, class: "select" },
    RECOVER_PERIODS.map(([label, hours]) => h("option", { value: String(hours), text: label, selected: hours === 24 })));
  const outcomes = RECOVER_OUTCOMES.map(([outcome, checked]) => h("input", { type: "checkbox", id: `recover-${outcome}`, value: outcome, checked }));
  const message = h("p", { class: "form-error", role: "alert", hidden: true });
  const result = h("p", { class: "muted", "aria-live": "polite" });
  const start = h("button", { type: "button", class: "btn btn-primary", text: "Redeliver" });
  const close = h("button", { type: "button", class: "btn", text: "Close" });
  const body = h("div", { class: "stack" },
    h("p", { text: "Sends every delivery of the period whose latest attempt failed again, with its delivery id (receivers deduplicate on it). Deliveries with a retry still scheduled, or that succeeded since, are left alone." }),
    h("div", { class: "field" }, h("label", { for: periodId, class: "label", text: "Period" }), period),
    h("fieldset", { class: "fieldset" }, h("legend", { class: "label", text: "Outcomes" }),
      outcomes.map((box) => h("label", { class: "choice", for: box.id }, box, box.value))),
    message, result);
  const dialog = openDialog({ title: "Redeliver failed deliveries", body, footer: [close, start], initialFocus: period, returnFocus });
  close.addEventListener("click", () => dialog.close());
  start.addEventListener("click", async () => {
    message.hidden = true;
    const chosen = outcomes.filter((box) => box.checked).map((box) => box.value);
    if (!chosen.length) {
      message.textContent = "Choose at least one outcome.";
      message.hidden = false;
      return;
    }
    start.disabled = true;
    const until = new Date();
    let since = new Date(until.getTime() - Number(period.value) * 3600 * 1000).toISOString();
    let queued = 0;
    let skipped = 0;
    try {
      for (let call = 0; call < 100; call += 1) {
        const answer = await api.recover(webhookId, { since, until: until.toISOString(), outcomes: chosen });
        queued += answer.queued;
        skipped += answer.skipped;
        if (!answer.truncated || !answer.next_since) break;
        since = answer.next_since;
      }
      result.textContent = `Queued ${queued} ${queued === 1 ? "delivery" : "deliveries"} again; left ${skipped} alone.`;
      status.success(`Redelivery of ${queued} failed ${queued === 1 ? "delivery" : "deliveries"} queued.`);
      onChange();
    } catch (error) {
      message.textContent = error.detail ?? error.message;
      message.hidden = false;
      status.error(error);
    } finally {
      start.disabled = false;
    }
  });
}

/** Every attempt of one delivery, with Redeliver. `onChange` refreshes the log behind. */
async function deliveryDialog(webhookId, deliveryId, returnFocus, onChange) {
  const attemptsList = h("ol", { class: "attempts", "aria-label": "Attempts" });
  const facts = h("dl", { class: "facts" });
  const message = h("p", { class: "form-error", role: "alert", hidden: true });
  const progress = h("p", { class: "muted", "aria-live": "polite" });
  const redeliver = h("button", { type: "button", class: "btn btn-primary", text: "Redeliver" });
  const close = h("button", { type: "button", class: "btn", text: "Close" });
  const dialog = openDialog({
    title: `Delivery ${deliveryId}`,
    body: [facts, message, progress, h("h3", { class: "section-title", text: "Attempts" }), attemptsList],
    footer: [close, redeliver],
    initialFocus: close,
    returnFocus,
    wide: true,
  });
  close.addEventListener("click", () => dialog.close());

  let attempts = [];
  function render(delivery) {
    attempts = delivery.attempts;
    const first = attempts[0] ?? {};
    replace(facts,
      h("div", {}, h("dt", { text: "Event" }), h("dd", { class: "mono", text: first.event ?? "" })),
      h("div", {}, h("dt", { text: "Event id" }), h("dd", { class: "mono", text: first.event_id ?? "" })),
      h("div", {}, h("dt", { text: "Client" }), h("dd", { class: "mono", text: first.client_id ?? "" })),
      h("div", {}, h("dt", { text: "Delivery id" }), h("dd", { class: "mono", text: delivery.delivery_id })));
    replace(attemptsList, attempts.map(attemptCard));
  }

  try {
    render(await api.delivery(webhookId, deliveryId));
  } catch (error) {
    message.textContent = error.detail;
    message.hidden = false;
    redeliver.disabled = true;
    return;
  }

  redeliver.addEventListener("click", async () => {
    message.hidden = true;
    redeliver.disabled = true;
    try {
      const queued = await api.redeliver(webhookId, deliveryId);
      progress.textContent = `Redelivery queued as attempt ${queued.attempt}; waiting for its result…`;
      status.success(`Redelivery of ${deliveryId} queued as attempt ${queued.attempt}.`);
      const deadline = Date.now() + REDELIVERY_WAIT_MS;
      let arrived = false;
      while (!arrived && Date.now() < deadline && dialog.element.open) {
        await sleep(400);
        const delivery = await api.delivery(webhookId, deliveryId);
        arrived = delivery.attempts.some((a) => a.attempt >= queued.attempt);
        if (arrived) render(delivery);
      }
      progress.textContent = arrived
        ? `Attempt ${queued.attempt}: ${attempts.find((a) => a.attempt === queued.attempt)?.outcome ?? "recorded"}.`
        : `Attempt ${queued.attempt} is queued; it appears here once it has run.`;
      onChange();
    } catch (error) {
      progress.textContent = "";
      message.textContent = error.detail;
      message.hidden = false;
      status.error(error);
    } finally {
      redeliver.disabled = false;
    }
  });
}

export async function renderLogs(main, { id }) {
  let cursor = null;
  let outcome = "";
  const title = h("h1", { tabindex: "-1", text: "Delivery log" });
  const meta = h("p", { class: "page-meta" }, h("span", { class: "mono", text: id }));
  const filter = h("select", { id: "filter-outcome", class: "select" },
    h("option", { value: "", text: "All outcomes" }),
    OUTCOMES.map((o) => h("option", { value: o, text: o })));
  const refresh = h("button", { type: "button", class: "btn", text: "Refresh" });
  const live = h("span", { class: "muted toolbar-note", text: `Updates every ${AUTO_REFRESH_MS / 1000} s while open` });
  const recoverButton = h("button", { type: "button", class: "btn", text: "Redeliver failed…" });
  const tbody = h("tbody");
  const table = h("table", { class: "table logs-table" },
    h("caption", { class: "visually-hidden", text: "Delivery attempts, newest first" }),
    h("thead", {}, h("tr", {},
      ["When", "Delivery", "Event", "Client", "Attempt", "Outcome", "HTTP", "Duration"].map((label) => h("th", { scope: "col", text: label })))),
    tbody);
  const more = h("button", { type: "button", class: "btn", text: "Load more", hidden: true });
  const content = h("div", { class: "card", "aria-busy": "true" }, h("p", { class: "empty loading", text: "Loading the delivery log…" }));
  let webhook = null;
  const health = healthSection(id);

  replace(main,
    h("div", { class: "page-header" },
      h("div", {}, h("a", { class: "back-link", href: "#/webhooks", text: "← Webhooks" }), title, meta)),
    h("div", { class: "toolbar" },
      h("div", { class: "toolbar-field" }, h("label", { for: "filter-outcome", class: "label", text: "Outcome" }), filter),
      h("div", { class: "toolbar-spacer" }),
      live,
      recoverButton,
      refresh),
    health.section,
    content);

  api.getWebhook(id).then((found) => {
    webhook = found;
    title.textContent = `Delivery log: ${found.name}`;
    document.title = `${found.name} · Delivery log · Webhooks`;
    replace(meta,
      h("span", { class: "pill mono", text: found.event }), " ",
      h("span", { class: "mono", text: found.url }),
      found.enabled ? null : h("span", { class: "badge badge-off", text: "Disabled" }));
  }).catch((error) => {
    if (error.status === 404) replace(meta, h("span", { class: "mono", text: id }), h("span", { class: "badge badge-off", text: "Deleted webhook" }));
  });

  // The attempts shown, so a refresh adds only the new ones.
  const shown = new Set();

  function row(record) {
    shown.add(recordKey(record));
    const open = h("button", { type: "button", class: "link-button mono", title: "Show every attempt of this delivery", text: record.delivery_id });
    open.addEventListener("click", () => deliveryDialog(id, record.delivery_id, open, () => load(true)));
    const tr = h("tr", { class: "clickable", dataset: { delivery: record.delivery_id, attempt: String(record.attempt), outcome: record.outcome } },
      h("td", { class: "nowrap" }, timeElement(record.at)),
      h("td", { class: "cell-delivery" }, open),
      h("td", {}, h("span", { class: "mono", text: record.event })),
      h("td", { class: "mono", text: record.client_id }),
      h("td", { class: "num", text: String(record.attempt) }),
      h("td", {}, outcomeBadge(record.outcome),
        record.error ? h("span", { class: "cell-sub", title: record.error, text: record.error }) : null,
        record.next_attempt_at ? h("span", { class: "cell-sub next-attempt" }, "Next attempt ", timeElement(record.next_attempt_at)) : null),
      h("td", { class: "num", text: record.status_code ?? "—" }),
      h("td", { class: "num", text: formatElapsed(record.elapsed_ms) }));
    tr.addEventListener("click", (event) => { if (event.target !== open) open.click(); });
    return tr;
  }

  function empty() {
    if (outcome) return h("div", { class: "empty" }, h("h2", { class: "empty-title", text: `No ${outcome} attempts` }), h("p", { text: "Choose another outcome to see more." }));
    const type = webhook?.event ?? "report.publish_status";
    return h("div", { class: "empty" },
      h("h2", { class: "empty-title", text: "No deliveries yet" }),
      h("p", { text: "Every attempt to deliver an event to this webhook appears here, newest first. Send a test event with:" }),
      h("pre", { class: "mono command", text: `webhooks send --api ${apiBase || window.location.origin} --type ${type} --client acme --data '{}'` }));
  }

  async function load(reset) {
    if (reset) {
      cursor = null;
      shown.clear();
    }
    content.setAttribute("aria-busy", "true");
    more.disabled = true;
    try {
      const page = await api.logs(id, { outcome, limit: PAGE_SIZE, cursor: cursor ?? undefined });
      if (reset) tbody.replaceChildren();
      page.items.forEach((record) => tbody.append(row(record)));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      if (!tbody.children.length) replace(content, empty());
      else if (!content.contains(table)) replace(content, h("div", { class: "table-wrap" }, table), h("div", { class: "table-footer" }, more));
    } catch (error) {
      if (reset) replace(content, h("p", { class: "empty", text: error.status === 404 ? "This webhook does not exist and has no delivery log." : "The delivery log could not be loaded." }));
      status.error(error);
    } finally {
      content.removeAttribute("aria-busy");
      more.disabled = false;
    }
  }

  // Attempts newer than the newest shown go on top; the rows shown, the pages loaded
  // and the focus stay. Skipped while the tab is hidden or a refresh is running.
  let refreshing = false;
  async function addNewest() {
    if (document.visibilityState === "hidden" || refreshing) return;
    refreshing = true;
    try {
      const page = await api.logs(id, { outcome, limit: PAGE_SIZE });
      const fresh = page.items.filter((record) => !shown.has(recordKey(record)));
      if (!fresh.length) return;
      // A first record, or more new ones than a page: show the newest page afresh.
      if (!tbody.children.length || fresh.length === page.items.length) {
        await load(true);
        return;
      }
      const first = tbody.firstChild;
      fresh.forEach((record) => tbody.insertBefore(row(record), first));
    } catch {
      // The next tick tries again; Refresh reports a failure.
    } finally {
      refreshing = false;
    }
  }
  const onVisible = () => { if (document.visibilityState === "visible") addNewest(); };
  const timer = setInterval(() => {
    if (!content.isConnected) {
      // The admin left this screen.
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
      return;
    }
    addNewest();
  }, AUTO_REFRESH_MS);
  document.addEventListener("visibilitychange", onVisible);

  filter.addEventListener("change", () => { outcome = filter.value; load(true); });
  refresh.addEventListener("click", () => { load(true); health.refresh(); });
  recoverButton.addEventListener("click", () => recoverDialog(id, recoverButton, () => addNewest()));
  more.addEventListener("click", () => load(false));
  await Promise.all([load(true), health.refresh()]);
}
