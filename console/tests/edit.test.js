// Editing a saved webhook: the secret stays write-only (keep / replace / remove), field
// errors come back inline, a concurrent change is caught by the version check, Test
// from the actions menu signs with the stored secret, and the rate limit is set, shown
// and removed.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { openBrowser, startReceiver, startService } from "./helpers.js";

let service;
let receiver;
let browser;
let webhook;

before(async () => {
  receiver = await startReceiver();
  service = await startService();
  browser = await openBrowser();
  const created = await service.api("POST", "/webhooks", {
    name: "Audit feed", url: `${receiver.url}/audit`, event: "report.publish_status",
    clients: ["acme"], secret: "an-initial-secret-of-32-characters",
  });
  assert.equal(created.status, 201);
  webhook = created.body;
});

after(async () => {
  await browser?.close();
  await service?.stop();
  await receiver?.stop();
});

const current = async () => (await service.api("GET", `/webhooks/${webhook.id}`)).body;

async function openEdit(page) {
  await page.goto(service.url);
  await page.getByRole("button", { name: /^Actions for / }).click();
  await page.getByRole("menuitem", { name: "Edit" }).click();
  await page.getByRole("heading", { level: 1, name: /^Edit / }).waitFor();
}

test("Test from the actions menu signs with the stored secret", { timeout: 60_000 }, async () => {
  const { page } = browser;
  await page.goto(service.url);
  await page.getByRole("button", { name: "Actions for Audit feed" }).click();
  await page.getByRole("menuitem", { name: "Test" }).click();
  const dialog = page.getByRole("dialog", { name: "Test connection: Audit feed" });
  await dialog.locator(".report").waitFor();
  assert.equal(await dialog.locator(".check").count(), 8);
  assert.equal(await dialog.locator('.check[data-check="signature"]').getAttribute("data-status"), "pass");
  await dialog.getByRole("button", { name: "Close" }).click();
  await dialog.waitFor({ state: "detached" });
});

test("the edit form keeps, replaces and removes the secret without ever showing it", { timeout: 120_000 }, async () => {
  const { page, errors } = browser;

  // GIVEN the edit form of a webhook with a secret
  await openEdit(page);
  assert.equal(await page.getByText("Secret configured").count(), 1);
  assert.equal(await page.getByRole("radio", { name: "Keep the current secret" }).isChecked(), true);
  assert.equal(await page.getByRole("radio", { name: "Chosen clients" }).isChecked(), true);
  assert.equal(await page.getByLabel("Client ids").inputValue(), "acme");
  assert.equal(await page.getByLabel("Secret", { exact: true }).isVisible(), false);
  assert.ok(!(await page.content()).includes("an-initial-secret"), "the secret is never in the page");

  // WHEN the admin renames it, scopes it to all clients and keeps the secret
  await page.getByLabel("Name", { exact: true }).fill("Audit feed (all)");
  await page.getByRole("radio", { name: "All clients" }).check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
  // THEN only those fields changed
  let saved = await current();
  assert.equal(saved.name, "Audit feed (all)");
  assert.equal(saved.clients, "all");
  assert.equal(saved.secret_configured, true);
  assert.equal(saved.version, 2);
  assert.match(await page.locator("#status").textContent(), /Saved Audit feed \(all\)/);

  // WHEN the admin enters a secret that is too short THEN the API's error shows by the field
  await openEdit(page);
  await page.getByRole("radio", { name: "Replace with my own secret" }).check();
  await page.getByLabel("Secret", { exact: true }).fill("short");
  await page.getByRole("button", { name: "Save changes" }).click();
  const secretError = page.locator("#wh-secret-error");
  await secretError.waitFor({ state: "visible" });
  assert.match(await secretError.textContent(), /16–256/);
  assert.equal(await page.getByLabel("Secret", { exact: true }).getAttribute("aria-invalid"), "true");

  // WHEN a chosen-clients scope is left empty THEN the clients error shows by the ids
  await page.getByRole("radio", { name: "Chosen clients" }).check();
  await page.getByLabel("Client ids").fill(" , ");
  await page.getByLabel("Secret", { exact: true }).fill("a-replacement-secret-0123456789");
  await page.getByRole("button", { name: "Save changes" }).click();
  const clientsError = page.locator("#wh-clients-error");
  await clientsError.waitFor({ state: "visible" });
  assert.equal(await secretError.isVisible(), false, "the old error is cleared");
  assert.equal((await current()).version, 2, "nothing was saved");

  // WHEN the admin fixes it THEN the new secret signs the next test
  await page.getByRole("radio", { name: "All clients" }).check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
  saved = await current();
  assert.equal(saved.version, 3);
  assert.equal(saved.secret_configured, true);

  // WHEN the admin removes the secret THEN the webhook has none
  await openEdit(page);
  await page.getByRole("radio", { name: /^Remove the secret/ }).check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
  assert.equal((await current()).secret_configured, false);
  await page.locator(".cell-sub", { hasText: "Unsigned" }).waitFor();

  assert.deepEqual(errors, []);
});

test("a change made elsewhere meanwhile is not overwritten", { timeout: 60_000 }, async () => {
  const { page } = browser;
  // GIVEN the edit form, open on the current version
  await openEdit(page);
  // AND someone else renames the webhook meanwhile
  assert.equal((await service.api("PATCH", `/webhooks/${webhook.id}`, { name: "Renamed elsewhere" })).status, 200);
  // WHEN the admin saves THEN the 412's detail is shown and the other change stays
  await page.getByLabel("Name", { exact: true }).fill("Mine");
  await page.getByRole("button", { name: "Save changes" }).click();
  const formError = page.locator(".form .form-error");
  await formError.waitFor({ state: "visible" });
  assert.match(await formError.textContent(), /version/);
  assert.equal((await current()).name, "Renamed elsewhere");
});

test("the rate limit is set, shown when editing, refused out of range and removed", { timeout: 60_000 }, async () => {
  const { page, errors } = browser;
  const rate = () => page.getByLabel("Rate limit (per second)");

  // GIVEN the edit form of a webhook without a rate limit
  await openEdit(page);
  assert.equal(await rate().inputValue(), "", "empty: no limit");

  // WHEN the admin sets 5 a second THEN the webhook has it, and the form shows it
  await rate().fill("5");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
  assert.equal((await current()).rate_limit_per_second, 5);
  await openEdit(page);
  assert.equal(await rate().inputValue(), "5");

  // WHEN the admin enters 10001 THEN the API's error shows by the field and nothing is saved
  const version = (await current()).version;
  await rate().fill("10001");
  await page.getByRole("button", { name: "Save changes" }).click();
  const rateError = page.locator("#wh-rate-error");
  await rateError.waitFor({ state: "visible" });
  assert.match(await rateError.textContent(), /1 to 10000/);
  assert.equal(await rate().getAttribute("aria-invalid"), "true");
  assert.equal((await current()).version, version, "nothing was saved");

  // WHEN the admin empties the field THEN the limit is removed
  await rate().fill("");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
  const saved = await current();
  assert.equal(saved.rate_limit_per_second, null);
  assert.equal(saved.version, version + 1);

  assert.deepEqual(errors, []);
});
