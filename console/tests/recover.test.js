// "Redeliver failed…" in the delivery log: a period's failed deliveries are sent again
// with their delivery ids, and the log shows the new attempts.

import assert from "node:assert/strict";
import { test } from "node:test";

import { startedAroundTests, waitFor } from "./helpers.js";

const world = startedAroundTests();

test("Redeliver failed… sends the period's failed deliveries again", { timeout: 120_000 }, async () => {
  const { page, errors } = world.browser;
  // GIVEN a delivery the receiver answered 410 (so the service disabled the webhook),
  // and the webhook enabled again once the receiver is back
  const created = await world.service.api("POST", "/webhooks", { name: "Outage hook", url: `${world.receiver.url}/gone-once`, event: "assessment.submitted", clients: "all" });
  assert.equal(created.status, 201);
  const id = created.body.id;
  assert.equal((await world.service.api("POST", "/events", { type: "assessment.submitted", client_id: "acme", data: {} })).status, 202);
  const first = await world.receiver.waitFor((r) => r.url === "/gone-once", "the first delivery");
  await waitFor(async () => (await world.service.api("GET", `/webhooks/${id}`)).body.enabled === false, { message: "disabled by the 410" });
  const current = await world.service.api("GET", `/webhooks/${id}`);
  assert.equal((await world.service.api("PATCH", `/webhooks/${id}`, { enabled: true })).status, 200, JSON.stringify(current.body));

  // WHEN the admin chooses Redeliver failed… for the last hour, with the disabled outcome
  await page.goto(`${world.service.url}/#/webhooks/${id}/logs`);
  await page.locator('tbody tr[data-outcome="disabled"]').waitFor();
  await page.getByRole("button", { name: "Redeliver failed…" }).click();
  const dialog = page.getByRole("dialog", { name: "Redeliver failed deliveries" });
  await dialog.waitFor();
  await dialog.getByLabel("Period").selectOption({ label: "Last hour" });
  await dialog.getByLabel("disabled").check();
  await dialog.getByRole("button", { name: "Redeliver" }).click();

  // THEN it says one delivery was queued, and the receiver gets it again, same id, attempt 2
  await dialog.getByText("Queued 1 delivery again; left 0 alone.").waitFor();
  const again = await world.receiver.waitFor((r) => r.url === "/gone-once" && r !== first && r.headers["x-delivery-attempt"] === "2", "the redelivery");
  assert.equal(again.headers["x-delivery-id"], first.headers["x-delivery-id"]);
  // AND the log shows the new attempt once the dialog is closed
  await dialog.getByRole("button", { name: "Close" }).click();
  await page.locator('tbody tr[data-outcome="succeeded"]').waitFor({ timeout: 15_000 });
  assert.deepEqual(errors, []);
});
