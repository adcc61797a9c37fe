// The delivery log screen: pages of 50 with "Load more", the outcome filter, and the
// API's 409 detail when a redelivery is refused.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { openBrowser, startReceiver, startService, waitFor } from "./helpers.js";

const SUCCEEDING = 52;

let service;
let receiver;
let browser;
let webhook;

before(async () => {
  receiver = await startReceiver();
  service = await startService();
  browser = await openBrowser();
  const created = await service.api("POST", "/webhooks", { name: "Busy hook", url: `${receiver.url}/busy`, event: "engagement.requested", clients: "all" });
  assert.equal(created.status, 201);
  webhook = created.body;
  // GIVEN 52 deliveries that succeed and one whose receiver answers 500 (so it is retrying)
  for (let i = 0; i < SUCCEEDING; i += 1) {
    const sent = await service.api("POST", "/events", { type: "engagement.requested", client_id: `client-${i}`, data: { n: i } });
    assert.equal(sent.status, 202);
  }
  assert.equal((await service.api("POST", "/events", { type: "engagement.requested", client_id: "fail-1", data: {} })).status, 202);
  await waitFor(async () => {
    const page = await service.api("GET", `/webhooks/${webhook.id}/logs?limit=100`);
    return page.body.items.length >= SUCCEEDING + 1 && page.body.items.some((r) => r.outcome === "retrying");
  }, { timeout: 60_000, interval: 250, message: "53 log records" });
});

after(async () => {
  await browser?.close();
  await service?.stop();
  await receiver?.stop();
});

test("the log pages with Load more, filters by outcome and shows a refused redelivery", { timeout: 120_000 }, async () => {
  const { page, errors } = browser;
  const rows = page.locator("tbody tr");

  // WHEN the admin opens the log
  await page.goto(`${service.url}/#/webhooks/${webhook.id}/logs`);
  await page.getByRole("heading", { level: 1, name: "Delivery log: Busy hook" }).waitFor();
  await rows.first().waitFor();

  // THEN the newest 50 attempts show, newest first, with Load more for the rest
  assert.equal(await rows.count(), 50);
  const times = await rows.locator("td:first-child time").evaluateAll((items) => items.map((t) => t.getAttribute("datetime")));
  assert.deepEqual(times, [...times].sort().reverse());
  const more = page.getByRole("button", { name: "Load more" });
  await more.click();
  const total = (await service.api("GET", `/webhooks/${webhook.id}/logs?limit=100`)).body.items.length;
  await waitFor(async () => (await rows.count()) === total, { message: `${total} rows` });
  assert.equal(await more.isVisible(), false);

  // WHEN the admin filters by outcome THEN only those attempts show
  await page.getByLabel("Outcome").selectOption("retrying");
  await waitFor(async () => (await rows.count()) > 0 && (await rows.count()) < total, { message: "the filtered rows" });
  const outcomes = await rows.evaluateAll((items) => items.map((tr) => tr.dataset.outcome));
  assert.ok(outcomes.every((o) => o === "retrying"), outcomes.join());
  await page.getByLabel("Outcome").selectOption("exhausted");
  await page.getByRole("heading", { name: "No exhausted attempts" }).waitFor();
  await page.getByLabel("Outcome").selectOption("retrying");
  await rows.first().waitFor();

  // WHEN the admin redelivers a delivery that already has a retry scheduled
  const retrying = rows.first();
  const deliveryId = await retrying.getAttribute("data-delivery");
  await retrying.click();
  const dialog = page.getByRole("dialog", { name: `Delivery ${deliveryId}` });
  await dialog.waitFor();
  await dialog.locator(".attempt").first().waitFor();
  assert.match(await dialog.locator(".attempt").first().textContent(), /HTTP 500/);
  await dialog.getByRole("button", { name: "Redeliver" }).click();

  // THEN the API's 409 detail is shown in the dialog and in the status region
  const alert = dialog.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.textContent(), /already has a retry scheduled/);
  assert.match(await page.locator("#status").textContent(), /already has a retry scheduled/);
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });

  assert.deepEqual(errors, []);
});

test("an unknown webhook's log says so", { timeout: 60_000 }, async () => {
  const { page } = browser;
  await page.goto(`${service.url}/#/webhooks/wh_does_not_exist/logs`);
  await page.getByText("This webhook does not exist and has no delivery log.").waitFor();
  assert.match(await page.locator("#status").textContent(), /does not exist/);
});
