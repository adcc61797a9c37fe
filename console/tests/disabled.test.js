// A webhook the service disabled: the `webhook.disabled` notice reaches the webhook
// subscribed to it, and the list's banner names the disabled webhook with its reason
// and enables it again.

import assert from "node:assert/strict";
import { test } from "node:test";

import { startedAroundTests, waitFor } from "./helpers.js";

const world = startedAroundTests();

test("a webhook disabled by a 410 is announced, shown in the banner and enabled from it", { timeout: 120_000 }, async () => {
  const { page, errors } = world.browser;
  // GIVEN a webhook whose receiver answers 410, and one subscribed to the notice
  const gone = await world.service.api("POST", "/webhooks", { name: "Gone hook", url: `${world.receiver.url}/gone`, event: "assessment.submitted", clients: "all" });
  assert.equal(gone.status, 201);
  const ops = await world.service.api("POST", "/webhooks", { name: "Ops notices", url: `${world.receiver.url}/ops`, event: "webhook.disabled", clients: "all" });
  assert.equal(ops.status, 201);

  // WHEN an event meets the 410
  const sent = await world.service.api("POST", "/events", { type: "assessment.submitted", client_id: "acme", data: {} });
  assert.equal(sent.status, 202);

  // THEN the notice reaches the subscribed webhook, naming the disabled one and why
  const notice = await world.receiver.waitFor((r) => r.url === "/ops" && r.json?.type === "webhook.disabled", "the webhook.disabled notice");
  assert.equal(notice.json.client_id, "operations");
  assert.equal(notice.json.data.webhook_id, gone.body.id);
  assert.equal(notice.json.data.name, "Gone hook");
  assert.match(notice.json.data.reason, /410/);

  // AND the list's banner names it with its reason
  await page.goto(world.service.url);
  const banner = page.getByRole("region", { name: "1 webhook is disabled" });
  await banner.waitFor();
  assert.match(await banner.textContent(), /Gone hook/);
  assert.match(await banner.textContent(), /410/);

  // WHEN Enable is chosen in the banner THEN the webhook is enabled and the banner goes
  await banner.getByRole("button", { name: "Enable Gone hook" }).click();
  await banner.waitFor({ state: "hidden" });
  await waitFor(async () => (await world.service.api("GET", `/webhooks/${gone.body.id}`)).body.enabled === true, { message: "enabled in the API" });
  const toggle = page.getByRole("switch", { name: "Enabled: Gone hook" });
  assert.equal(await toggle.getAttribute("aria-checked"), "true");
  assert.deepEqual(errors, []);
});
