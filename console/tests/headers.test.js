// Custom headers in the form: rows added and removed, values shown only as typed and
// masked on edit, an untouched section keeps the stored values, a changed one replaces
// the whole set (kept headers need their value again), and the values reach receivers.

import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot, startedAroundTests } from "./helpers.js";

const world = startedAroundTests();

const TOKEN = "Splunk c0nsole-t0ken-0001";

async function openEdit(page, name) {
  await page.goto(world.service.url);
  await page.getByRole("button", { name: `Actions for ${name}` }).click();
  await page.getByRole("menuitem", { name: "Edit" }).click();
  await page.getByRole("heading", { level: 1, name: /^Edit / }).waitFor();
}

test("headers are added and removed as rows, masked on edit, kept untouched and replaced whole", { timeout: 120_000 }, async () => {
  const { page, errors } = world.browser;
  const form = page.locator("form");
  const rows = () => form.locator(".header-row");

  // GIVEN the new webhook form
  await page.goto(`${world.service.url}/#/webhooks/new`);
  await page.getByRole("heading", { level: 1, name: "New webhook" }).waitFor();
  await page.getByLabel("Name", { exact: true }).fill("Splunk HEC");
  await page.getByLabel("URL").fill(`${world.receiver.url}/hec`);
  // WHEN the admin adds three headers and removes the second
  for (const [name, value] of [["Authorization", TOKEN], ["X-Dropped", "gone"], ["X-Channel", "chan-1"]]) {
    await page.getByRole("button", { name: "Add header" }).click();
    const row = rows().last();
    await row.getByLabel(/name$/).fill(name);
    await row.getByLabel(/value$/).fill(value);
  }
  assert.equal(await rows().nth(0).getByLabel(/value$/).inputValue(), TOKEN, "shown as typed");
  await rows().nth(1).getByRole("button", { name: "Remove" }).click();
  assert.equal(await rows().count(), 2);
  await screenshot(page, "form-custom-headers.png", { fullPage: true });
  await page.getByRole("button", { name: "Save webhook" }).click();
  await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
  // THEN the webhook has the two headers left
  const list = (await world.service.api("GET", "/webhooks")).body.items;
  const webhook = list.find((w) => w.name === "Splunk HEC");
  assert.deepEqual(webhook.header_names, ["Authorization", "X-Channel"]);

  // WHEN the admin opens it for editing
  await openEdit(page, "Splunk HEC");
  // THEN each header shows its name and a masked, empty value; no value is in the page
  assert.equal(await rows().count(), 2);
  assert.equal(await rows().nth(0).getByLabel(/name$/).inputValue(), "Authorization");
  assert.equal(await rows().nth(0).getByLabel(/value$/).inputValue(), "");
  assert.match(await rows().nth(0).getByLabel(/value$/).getAttribute("placeholder"), /hidden/);
  assert.ok(!(await page.content()).includes("c0nsole-t0ken"), "a stored value is never in the page");

  // WHEN the admin changes only the name of the webhook THEN the headers are not sent
  // and keep their values
  await page.getByLabel("Name", { exact: true }).fill("Splunk HEC (prod)");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
  await world.service.api("POST", "/events", { type: "report.publish_status", client_id: "acme", data: {} });
  const delivered = await world.receiver.waitFor((r) => r.url === "/hec", "a delivery with the headers");
  assert.equal(delivered.headers.authorization, TOKEN);
  assert.equal(delivered.headers["x-channel"], "chan-1");

  // WHEN the admin removes X-Channel but leaves Authorization's value empty
  await openEdit(page, "Splunk HEC (prod)");
  await rows().nth(1).getByRole("button", { name: "Remove" }).click();
  await page.getByRole("button", { name: "Save changes" }).click();
  // THEN the form asks for the kept header's value, and nothing is saved
  const headersError = page.locator("#wh-headers-error");
  await headersError.waitFor({ state: "visible" });
  assert.match(await headersError.textContent(), /Type the value of Authorization again/);
  assert.equal((await world.service.api("GET", `/webhooks/${webhook.id}`)).body.header_names.length, 2);

  // WHEN the admin types it again THEN the whole set is replaced by Authorization alone
  await rows().nth(0).getByLabel(/value$/).fill("Splunk new-t0ken");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
  assert.deepEqual((await world.service.api("GET", `/webhooks/${webhook.id}`)).body.header_names, ["Authorization"]);

  // WHEN the admin tries a reserved name THEN the API's 422 shows in the section
  await openEdit(page, "Splunk HEC (prod)");
  await rows().nth(0).getByLabel(/value$/).fill("Splunk new-t0ken");
  await page.getByRole("button", { name: "Add header" }).click();
  await rows().last().getByLabel(/name$/).fill("X-Webhook-Id");
  await page.getByRole("button", { name: "Save changes" }).click();
  await headersError.waitFor({ state: "visible" });
  assert.match(await headersError.textContent(), /X-Webhook-Id is reserved/);

  // WHEN every row is removed THEN the webhook has no headers
  while (await rows().count()) await rows().first().getByRole("button", { name: "Remove" }).click();
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
  assert.deepEqual((await world.service.api("GET", `/webhooks/${webhook.id}`)).body.header_names, []);

  assert.deepEqual(errors, []);
});
