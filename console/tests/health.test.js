// A webhook's health: the log page's chart of succeeded and failed attempts per
// bucket (with the numbers as text and a window picker), and the list's indicator.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { openBrowser, screenshot, startReceiver, startService, waitFor } from "./helpers.js";

let service;
let receiver;
let browser;
let busy;
let quiet;

before(async () => {
  receiver = await startReceiver();
  service = await startService();
  browser = await openBrowser();
  const create = async (name, path, event) => {
    const created = await service.api("POST", "/webhooks", { name, url: `${receiver.url}/${path}`, event, clients: "all" });
    assert.equal(created.status, 201);
    return created.body;
  };
  busy = await create("Busy hook", "busy", "assessment.submitted");
  quiet = await create("Quiet hook", "quiet", "engagement.requested");
  // GIVEN three deliveries that succeed and one whose receiver answers 500
  for (const client of ["acme", "globex", "initech", "fail-1"]) {
    const sent = await service.api("POST", "/events", { type: "assessment.submitted", client_id: client, data: {} });
    assert.equal(sent.status, 202);
  }
  await waitFor(async () => {
    const stats = await service.api("GET", `/webhooks/${busy.id}/stats`);
    return stats.body.attempts === 4;
  }, { timeout: 30_000, interval: 200, message: "4 attempts in the stats" });
});

after(async () => {
  await browser?.close();
  await service?.stop();
  await receiver?.stop();
});

/** Each bar's [start, succeeded, failed], in order. */
const barsOf = (page) => page.locator("svg.stats-chart g.stats-bar").evaluateAll((bars) =>
  bars.map((bar) => [bar.dataset.start, Number(bar.dataset.succeeded), Number(bar.dataset.failed)]));

test("the log page charts the attempts per bucket, with the numbers as text", { timeout: 60_000 }, async () => {
  const { page, errors } = browser;
  const api = (await service.api("GET", `/webhooks/${busy.id}/stats?window=24h`)).body;
  assert.equal(api.succeeded, 3);
  assert.equal(api.failed, 1);

  // WHEN the admin opens the webhook's log
  await page.goto(`${service.url}/#/webhooks/${busy.id}/logs`);
  const chart = page.getByRole("img", { name: /Attempts per bucket/ });
  await chart.waitFor();

  // THEN 24 bars show the API's counts, bucket by bucket
  const bars = await barsOf(page);
  assert.equal(bars.length, 24);
  assert.deepEqual(bars, api.buckets.map((b) => [b.start, b.succeeded, b.failed]));
  assert.deepEqual(bars.reduce(([, s, f], [, bs, bf]) => [null, s + bs, f + bf], [null, 0, 0]).slice(1), [3, 1]);
  // AND a filled bar is drawn taller than an empty one's zero height
  const heights = await page.locator("g.stats-bar rect.stats-bar-succeeded").evaluateAll((rects) => rects.map((r) => Number(r.getAttribute("height"))));
  assert.equal(heights.filter((height) => height > 0).length, api.buckets.filter((b) => b.succeeded > 0).length);
  // AND the success rate and p95 are shown, and said in the chart's name
  assert.equal(await page.locator('[data-figure="rate"] .stats-figure-value').textContent(), "75%");
  assert.match(await page.locator('[data-figure="p95"] .stats-figure-value').textContent(), /^\d+ ms$|^\d+\.\d\d s$/);
  assert.match(await chart.getAttribute("aria-label"), /75% succeeded of 4 attempts \(1 failed\)/);
  // AND the numbers of every bucket are listed as text
  await page.getByText("Numbers per bucket").click();
  const items = await page.locator(".stats-list li").allTextContents();
  assert.equal(items.length, 24);
  api.buckets.forEach((bucket, index) => {
    assert.ok(items[index].includes(`${bucket.succeeded} succeeded, ${bucket.failed} failed`), items[index]);
  });
  await screenshot(page, "health.png");

  // WHEN the admin picks the 7-day window THEN 7 daily bars show the same totals
  await page.getByLabel("Window").selectOption("7d");
  await waitFor(async () => (await barsOf(page)).length === 7, { message: "7 bars" });
  const week = await barsOf(page);
  assert.deepEqual([week.reduce((s, [, n]) => s + n, 0), week.reduce((s, [, , n]) => s + n, 0)], [3, 1]);
  assert.deepEqual(errors, []);
});

test("the webhooks list shows each webhook's success rate over 24 hours", { timeout: 60_000 }, async () => {
  const { page, errors } = browser;
  // WHEN the admin opens the list
  await page.goto(`${service.url}/#/webhooks`);
  const busyRow = page.locator(`tr[data-id="${busy.id}"]`);
  const quietRow = page.locator(`tr[data-id="${quiet.id}"]`);
  await busyRow.locator('.health[data-level="poor"]').waitFor();
  // THEN the busy webhook shows 75% with a text alternative, the quiet one no attempts
  assert.equal(await busyRow.locator(".health-rate").textContent(), "75%");
  assert.equal(await busyRow.locator(".health .visually-hidden").textContent(), "75% of 4 attempts succeeded in the last 24 hours");
  await quietRow.locator('.health[data-level="none"]').waitFor();
  assert.equal(await quietRow.locator(".health .visually-hidden").textContent(), "No attempts in the last 24 hours");
  assert.deepEqual(errors, []);
});
