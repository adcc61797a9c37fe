// The delivery log while it is open: it refreshes itself (paused while the tab is
// hidden), shows when a retrying attempt is next due, and a row with a long error
// stays inside its card at 1280 and 1600 px.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { openBrowser, startReceiver, startService, waitFor } from "./helpers.js";

let service;
let receiver;
let browser;
let webhook;

before(async () => {
  receiver = await startReceiver();
  service = await startService();
  browser = await openBrowser();
  // GIVEN a webhook whose receiver fails (500), so its attempts are retrying
  const created = await service.api("POST", "/webhooks", { name: "Live hook", url: `${receiver.url}/live`, event: "report.publish_status", clients: "all" });
  assert.equal(created.status, 201);
  webhook = created.body;
  const sent = await service.api("POST", "/events", { type: "report.publish_status", client_id: "fail-long-error", data: {} });
  assert.equal(sent.status, 202);
  await waitFor(async () => (await service.api("GET", `/webhooks/${webhook.id}/logs`)).body.items.length >= 1, { message: "a first log record" });
});

after(async () => {
  await browser?.close();
  await service?.stop();
  await receiver?.stop();
});

const openLog = async (page) => {
  await page.goto(`${service.url}/#/webhooks/${webhook.id}/logs`);
  await page.getByRole("heading", { level: 1, name: "Delivery log: Live hook" }).waitFor();
  await page.locator("tbody tr").first().waitFor();
};

test("a retrying attempt shows when it is next due", { timeout: 60_000 }, async () => {
  const { page } = browser;
  await openLog(page);
  // THEN the retrying row says when the next attempt is, as a time
  const retrying = page.locator('tbody tr[data-outcome="retrying"]').first();
  const next = retrying.locator(".next-attempt");
  assert.match(await next.textContent(), /^Next attempt /);
  const record = (await service.api("GET", `/webhooks/${webhook.id}/logs`)).body.items.find((r) => r.outcome === "retrying");
  assert.equal(await next.locator("time").getAttribute("datetime"), record.next_attempt_at);
});

test("a row with a long error stays inside its card at 1280 and 1600 px", { timeout: 60_000 }, async () => {
  const { page } = browser;
  for (const width of [1280, 1600]) {
    // GIVEN the log at this width, with a long error line in a row
    await page.setViewportSize({ width, height: 900 });
    await openLog(page);
    await page.evaluate(() => {
      const sub = document.querySelector("tbody tr .cell-sub");
      sub.textContent = "error sending request for url (http://receiver.example:8443/a/very/long/path/that/goes/on/and/on): connection closed before message completed ".repeat(3);
    });
    // THEN the table ends inside its card, and the page does not scroll sideways
    const { table, card, scroll, viewport } = await page.evaluate(() => ({
      table: document.querySelector(".logs-table").getBoundingClientRect().right,
      card: document.querySelector(".logs-table").closest(".card").getBoundingClientRect().right,
      scroll: document.documentElement.scrollWidth,
      viewport: window.innerWidth,
    }));
    assert.ok(table <= card + 0.5, `at ${width} px the table ends at ${table}, its card at ${card}`);
    assert.ok(scroll <= viewport, `at ${width} px the page is ${scroll} px wide`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
});

test("the log refreshes itself while visible, and not while the tab is hidden", { timeout: 90_000 }, async () => {
  const { page, errors } = browser;
  await openLog(page);
  const rows = page.locator("tbody tr");
  const before = await rows.count();
  const logRequests = [];
  page.on("request", (request) => { if (request.url().includes(`/webhooks/${webhook.id}/logs`)) logRequests.push(Date.now()); });

  // WHEN the tab is hidden and a new event is delivered
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
    document.dispatchEvent(new Event("visibilitychange"));
  });
  const hiddenAt = Date.now();
  assert.equal((await service.api("POST", "/events", { type: "report.publish_status", client_id: "acme", data: {} })).status, 202);
  await receiver.waitFor((r) => r.url === "/live" && r.json?.client_id === "acme", "the new delivery");
  await new Promise((resolve) => { setTimeout(resolve, 7_000); });
  // THEN nothing was asked for while hidden, and the rows are as they were
  assert.deepEqual(logRequests.filter((at) => at > hiddenAt + 100), []);
  assert.equal(await rows.count(), before);

  // WHEN the tab is visible again THEN the new attempt appears, without a click, and
  // the rows are exactly the log's (none twice, none missing, newest first)
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" });
    document.dispatchEvent(new Event("visibilitychange"));
  });
  const acme = page.locator('tbody tr[data-outcome="succeeded"]', { hasText: "acme" });
  await acme.first().waitFor({ timeout: 15_000 });
  assert.ok((await rows.count()) > before);
  const shownKeys = await rows.evaluateAll((trs) => trs.map((tr) => `${tr.dataset.delivery}#${tr.dataset.attempt}`));
  const log = (await service.api("GET", `/webhooks/${webhook.id}/logs`)).body.items.map((r) => `${r.delivery_id}#${r.attempt}`);
  assert.equal(new Set(shownKeys).size, shownKeys.length, "a row twice");
  // (the log may have grown since the last refresh: only attempts newer than every row
  // may be missing)
  const missing = log.filter((key) => !shownKeys.includes(key));
  assert.deepEqual(log.slice(missing.length), shownKeys);
  assert.deepEqual(errors, []);
});
