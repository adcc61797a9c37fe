// `webhooks serve --token`: the console page is public, every API call needs the
// bearer token, and the console asks for it once, keeps it for the tab's session and
// lists the webhooks with it.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { openBrowser, startService, waitFor } from "./helpers.js";

const TOKEN = "console-test-token-0123456789";

let service;
let browser;

before(async () => {
  service = await startService({ token: TOKEN });
  browser = await openBrowser();
  const created = await service.api("POST", "/webhooks", { name: "Behind a token", url: "https://example.com/hook", event: "report.publish_status", clients: "all" });
  assert.equal(created.status, 201);
});

after(async () => {
  await browser?.close();
  await service?.stop();
});

test("the page is public and the API is not", async () => {
  const page = await fetch(`${service.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type"), /^text\/html/);
  assert.match(page.headers.get("content-security-policy"), /script-src 'self'/);
  const script = await fetch(`${service.url}/app.js`);
  assert.equal(script.status, 200);
  assert.match(script.headers.get("content-type"), /^text\/javascript/);
  assert.equal(script.headers.get("x-content-type-options"), "nosniff");
  const api = await fetch(`${service.url}/webhooks`);
  assert.equal(api.status, 401);
  assert.equal((await api.json()).status, 401);
});

test("the console asks for the token once and then lists the webhooks", { timeout: 120_000 }, async () => {
  const { page, errors } = browser;
  let prompts = 0;
  await page.exposeFunction("countPrompt", () => { prompts += 1; });
  await page.addInitScript(() => {
    new MutationObserver((records) => records.forEach((record) => record.addedNodes.forEach((node) => {
      if (node.nodeName === "DIALOG") window.countPrompt();
    }))).observe(document, { childList: true, subtree: true });
  });

  // GIVEN the console of a service started with --token
  await page.goto(service.url);

  // THEN one prompt asks for the token, although the page made two API calls
  const prompt = page.getByRole("dialog", { name: "Sign in to the API" });
  await prompt.waitFor();
  assert.equal(await page.locator("dialog[open]").count(), 1);
  assert.equal(prompts, 1);
  assert.equal(await page.getByLabel("API token").evaluate((input) => input === document.activeElement), true);

  // WHEN a wrong token is given THEN the prompt comes back saying it was rejected
  await page.getByLabel("API token").fill("not-the-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await waitFor(async () => prompts === 2, { message: "the second prompt" });
  await prompt.getByText("That token was rejected").waitFor();

  // WHEN the right token is given THEN the webhooks are listed, and no prompt shows again
  await page.getByLabel("API token").fill(TOKEN);
  await page.keyboard.press("Enter");
  await page.locator(".webhook-name", { hasText: "Behind a token" }).waitFor();
  assert.equal(await page.locator("dialog[open]").count(), 0);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("webhooks-console.token")), TOKEN);
  await page.getByLabel("Event", { exact: true }).selectOption("report.publish_status");
  await page.locator(".webhook-name", { hasText: "Behind a token" }).waitFor();
  await page.reload();
  await page.locator(".webhook-name", { hasText: "Behind a token" }).waitFor();
  assert.equal(prompts, 2);

  // WHEN the admin forgets the token THEN the next call asks again
  await page.getByRole("button", { name: "Forget token" }).click();
  await prompt.waitFor();
  assert.equal(prompts, 3);
  await page.getByRole("button", { name: "Cancel" }).click();
  await prompt.waitFor({ state: "detached" });
  // AND cancelling shows the API's problem detail in the status region
  await waitFor(async () => /Authorization: Bearer/.test(await page.locator("#status").textContent()), { message: "the 401 detail" });

  assert.deepEqual(errors, []);
});
