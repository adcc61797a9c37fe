// The walk-through in a browser: create a webhook through the form
// (a bad URL first), test the connection, save, toggle Enabled off and on, send an
// event, see its delivery in the log, redeliver it, delete the webhook.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { hmacHex, openBrowser, screenshot, startReceiver, startService, waitFor } from "./helpers.js";

const CHECKS = ["url_valid", "dns_resolves", "address_allowed", "connects", "no_redirect", "status_200", "responds_in_time", "signature"];

let service;
let receiver;
let browser;

before(async () => {
  receiver = await startReceiver();
  service = await startService();
  browser = await openBrowser();
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: service.url });
});

after(async () => {
  await browser?.close();
  await service?.stop();
  await receiver?.stop();
});

const text = async (locator) => (await locator.textContent())?.trim() ?? "";

test("an admin does the whole walk-through in the browser", { timeout: 180_000 }, async () => {
  const { page, errors } = browser;

  // GIVEN the console, served by the service itself, with no webhooks yet
  await page.goto(service.url);
  await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
  await page.getByRole("heading", { name: "No webhooks yet" }).waitFor();

  // WHEN the admin fills the New webhook form with a URL the API refuses
  await page.getByRole("link", { name: "New webhook" }).click();
  await page.getByRole("heading", { level: 1, name: "New webhook" }).waitFor();
  await page.getByLabel("Name", { exact: true }).fill("SIEM relay");
  await page.getByRole("radio", { name: "Chosen clients" }).check();
  await page.getByLabel("Client ids").fill("acme, globex");
  await page.getByLabel("URL", { exact: true }).fill("ftp://x");
  await page.getByLabel("Event", { exact: true }).selectOption("report.publish_status");
  await page.getByRole("radio", { name: "Generate a secret" }).check();
  await page.getByRole("button", { name: "Save webhook" }).click();

  // THEN the API's validation error shows next to the URL field, and nothing was saved
  const urlError = page.locator("#wh-url-error");
  await urlError.waitFor({ state: "visible" });
  assert.match(await text(urlError), /\w/);
  assert.equal(await page.getByLabel("URL", { exact: true }).getAttribute("aria-invalid"), "true");
  assert.equal(await page.locator("#wh-name-error").isVisible(), false);
  assert.match(await text(page.locator("#status")), /url/);
  assert.deepEqual((await service.api("GET", "/webhooks")).body.items, []);

  // WHEN the admin enters the receiver's URL and runs Test connection before saving
  const hookUrl = `${receiver.url}/hooks/siem`;
  await page.getByLabel("URL", { exact: true }).fill(hookUrl);
  await page.getByRole("button", { name: "Test connection" }).click();

  // THEN every one of the eight checks is listed with its mark and detail
  const report = page.locator(".test-panel .report");
  await report.waitFor();
  const checks = await page.locator(".test-panel .check").evaluateAll((items) => items.map((item) => ({
    check: item.dataset.check, status: item.dataset.status, detail: item.querySelector(".check-detail").textContent,
  })));
  assert.deepEqual(checks.map((c) => c.check), CHECKS);
  for (const check of checks) {
    assert.ok(["pass", "warn"].includes(check.status), `${check.check}: ${check.status} ${check.detail}`);
    assert.ok(check.detail.length > 0, `${check.check} has a detail`);
  }
  assert.equal(checks.find((c) => c.check === "signature").status, "warn", "unsigned before the secret exists");
  assert.equal(await report.getAttribute("data-ok"), "true");
  assert.equal(await text(report.locator(".report-status")), "200");
  assert.match(await text(report.locator(".report-elapsed")), /\d+ (ms|s)/);
  assert.equal(await page.getByLabel("URL", { exact: true }).getAttribute("aria-invalid"), null, "the old error is gone");
  const probe = await receiver.waitFor((r) => r.json?.type === "webhook.test", "the test request");
  assert.equal(probe.url, "/hooks/siem");
  await screenshot(page, "form-test.png", { fullPage: true });

  // WHEN the admin saves
  await page.getByRole("button", { name: "Save webhook" }).click();

  // THEN the generated secret is shown once, with a Copy button that copies it
  const secretDialog = page.getByRole("dialog", { name: "Copy the signing secret" });
  await secretDialog.waitFor();
  const secret = await secretDialog.getByLabel("Signing secret").inputValue();
  assert.match(secret, /^whsec_/);
  await secretDialog.getByRole("button", { name: "Copy" }).click();
  await waitFor(async () => (await page.evaluate(() => navigator.clipboard.readText())) === secret, { message: "the secret on the clipboard" });
  await secretDialog.getByRole("button", { name: "Done" }).click();

  // AND the list shows the new webhook with its URL, event and clients
  await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
  const [created] = (await service.api("GET", "/webhooks")).body.items;
  assert.equal(created.name, "SIEM relay");
  assert.deepEqual(created.clients, ["acme", "globex"]);
  assert.equal(created.secret_configured, true);
  assert.equal((await service.api("GET", `/webhooks/${created.id}`)).body.secret, undefined, "never returned again");
  const row = page.locator(`tr[data-id="${created.id}"]`);
  await row.waitFor();
  assert.match(await text(row), /SIEM relay/);
  assert.match(await text(row), /report\.publish_status/);
  assert.match(await text(row), /acme, globex/);
  assert.match(await text(row), new RegExp(hookUrl.replaceAll(".", "\\.")));
  assert.match(await text(page.locator("#status")), /Created SIEM relay/);

  // Two more webhooks make the list look like a real one in the screenshot.
  const other = await service.api("POST", "/webhooks", { name: "Assessment intake", url: `${receiver.url}/hooks/assessments`, event: "assessment.submitted", clients: "all" });
  assert.equal(other.status, 201);
  const paused = await service.api("POST", "/webhooks", { name: "Scheduling bridge", url: `${receiver.url}/hooks/schedule`, event: "engagement.requested", clients: ["acme"], enabled: false, secret: "generate" });
  assert.equal(paused.status, 201);
  await page.reload();
  await row.waitFor();
  await page.locator("tbody tr").nth(2).waitFor();
  await screenshot(page, "list.png");

  // WHEN the admin turns Enabled off, then on again
  const toggle = row.getByRole("switch", { name: "Enabled: SIEM relay" });
  assert.equal(await toggle.getAttribute("aria-checked"), "true");
  await toggle.click();
  await waitFor(async () => (await toggle.getAttribute("aria-checked")) === "false", { message: "the switch off" });
  // THEN the API says so each time
  assert.equal((await service.api("GET", `/webhooks/${created.id}`)).body.enabled, false);
  await toggle.click();
  await waitFor(async () => (await toggle.getAttribute("aria-checked")) === "true", { message: "the switch on" });
  assert.equal((await service.api("GET", `/webhooks/${created.id}`)).body.enabled, true);

  // WHEN an event for one of its clients arrives
  const sent = await service.api("POST", "/events", { type: "report.publish_status", client_id: "acme", data: { report_id: "r-42", status: "published" } });
  assert.equal(sent.status, 202);
  // THEN the receiver gets it, signed with the secret the console showed
  const delivery = await receiver.waitFor((r) => r.json?.id === sent.body.id, "the delivery");
  assert.equal(delivery.headers["x-webhook-id"], created.id);
  assert.equal(delivery.headers["x-delivery-attempt"], "1");
  assert.equal(delivery.headers["x-authorization-hmac-256"], hmacHex(secret, delivery.body));

  // WHEN the admin opens View logs from the row's actions menu
  await row.getByRole("button", { name: "Actions for SIEM relay" }).click();
  await page.getByRole("menuitem", { name: "View logs" }).click();
  await page.getByRole("heading", { level: 1, name: "Delivery log: SIEM relay" }).waitFor();

  // THEN the delivery is there, succeeded
  const deliveryId = delivery.headers["x-delivery-id"];
  const logRow = page.locator(`tr[data-delivery="${deliveryId}"][data-attempt="1"]`);
  await waitFor(async () => {
    if (await logRow.count()) return true;
    await page.getByRole("button", { name: "Refresh" }).click();
    return false;
  }, { interval: 500, message: "the delivery in the log" });
  assert.equal(await logRow.getAttribute("data-outcome"), "succeeded");
  assert.match(await text(logRow), /succeeded/);
  assert.match(await text(logRow), /acme/);

  // WHEN the admin opens the delivery and redelivers it
  await logRow.getByRole("button", { name: deliveryId }).click();
  const detail = page.getByRole("dialog", { name: `Delivery ${deliveryId}` });
  await detail.waitFor();
  await detail.locator('.attempt[data-attempt="1"]').waitFor();
  await detail.getByRole("button", { name: "Redeliver" }).click();

  // THEN attempt 2 arrives at the receiver and shows in the dialog and the log
  await detail.locator('.attempt[data-attempt="2"][data-outcome="succeeded"]').waitFor();
  const again = await receiver.waitFor((r) => r.headers["x-delivery-id"] === deliveryId && r.headers["x-delivery-attempt"] === "2", "attempt 2");
  assert.equal(again.json.id, sent.body.id);
  assert.match(await text(detail), /Attempt 2: succeeded/);
  await detail.getByRole("button", { name: "Close" }).click();
  await detail.waitFor({ state: "detached" });
  await page.locator(`tr[data-delivery="${deliveryId}"][data-attempt="2"]`).waitFor();
  // The second attempt is listed first: newest first.
  assert.equal(await page.locator("tbody tr").first().getAttribute("data-attempt"), "2");
  await screenshot(page, "logs.png");

  // WHEN the admin deletes the webhook from the list, confirming in the dialog
  await page.getByRole("link", { name: "← Webhooks" }).click();
  await row.waitFor();
  await row.getByRole("button", { name: "Actions for SIEM relay" }).click();
  await page.getByRole("menuitem", { name: "Delete" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete webhook?" });
  await confirm.waitFor();
  assert.match(await text(confirm), /SIEM relay/);
  await confirm.getByRole("button", { name: "Delete webhook" }).click();

  // THEN it is gone from the list and from the API; the other two stay
  await row.waitFor({ state: "detached" });
  assert.equal((await service.api("GET", `/webhooks/${created.id}`)).status, 404);
  assert.equal((await service.api("GET", "/webhooks")).body.items.length, 2);
  assert.match(await text(page.locator("#status")), /Deleted SIEM relay/);

  // AND nothing went wrong in the page (no script errors, no CSP violations)
  assert.deepEqual(errors, []);
});
