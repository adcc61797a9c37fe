// Keyboard use (the accessibility basics): the actions menu opens with Enter and
// moves with the arrow keys, Escape closes it; the Enabled switch flips with Space and
// Enter; the delete confirmation is a modal dialog that gives focus back.

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
  const created = await service.api("POST", "/webhooks", { name: "Keyboard hook", url: `${receiver.url}/k`, event: "assessment.submitted", clients: "all" });
  assert.equal(created.status, 201);
  webhook = created.body;
});

after(async () => {
  await browser?.close();
  await service?.stop();
  await receiver?.stop();
});

const focused = (page) => page.evaluate(() => {
  const element = document.activeElement;
  return { role: element.getAttribute("role"), text: element.textContent.trim(), label: element.getAttribute("aria-label") };
});

test("the actions menu and the Enabled switch work from the keyboard", { timeout: 120_000 }, async () => {
  const { page, errors } = browser;
  await page.goto(service.url);
  const row = page.locator(`tr[data-id="${webhook.id}"]`);
  await row.waitFor();
  const button = row.getByRole("button", { name: "Actions for Keyboard hook" });
  const menu = page.getByRole("menu");
  assert.equal(await button.getAttribute("aria-haspopup"), "menu");
  assert.equal(await button.getAttribute("aria-expanded"), "false");

  // GIVEN focus on the menu button WHEN Enter is pressed THEN the menu opens on its first item
  await button.focus();
  await page.keyboard.press("Enter");
  await menu.waitFor({ state: "visible" });
  assert.equal(await button.getAttribute("aria-expanded"), "true");
  assert.deepEqual(await focused(page), { role: "menuitem", text: "Edit", label: null });

  // WHEN the arrow keys, Home and End are pressed THEN focus moves through the items, wrapping
  const expectations = [
    ["ArrowDown", "Test"], ["ArrowDown", "View logs"], ["ArrowDown", "Delete"], ["ArrowDown", "Edit"],
    ["ArrowUp", "Delete"], ["Home", "Edit"], ["End", "Delete"], ["ArrowUp", "View logs"],
  ];
  for (const [key, item] of expectations) {
    await page.keyboard.press(key);
    assert.equal((await focused(page)).text, item, `after ${key}`);
  }

  // WHEN Escape is pressed THEN the menu closes and focus is back on its button
  await page.keyboard.press("Escape");
  await menu.waitFor({ state: "hidden" });
  assert.equal(await button.getAttribute("aria-expanded"), "false");
  assert.equal((await focused(page)).label, "Actions for Keyboard hook");

  // WHEN ArrowUp is pressed on the button THEN the menu opens on its last item
  await page.keyboard.press("ArrowUp");
  await menu.waitFor({ state: "visible" });
  assert.equal((await focused(page)).text, "Delete");

  // WHEN Enter chooses Delete THEN a modal confirmation opens with focus on Cancel,
  // and Escape dismisses it, giving focus back to the menu button; nothing is deleted
  await page.keyboard.press("Enter");
  const confirm = page.getByRole("dialog", { name: "Delete webhook?" });
  await confirm.waitFor();
  assert.equal((await focused(page)).text, "Cancel");
  await page.keyboard.press("Tab");
  assert.equal((await focused(page)).text, "Delete webhook");
  await page.keyboard.press("Escape");
  await confirm.waitFor({ state: "detached" });
  assert.equal((await focused(page)).label, "Actions for Keyboard hook");
  assert.equal((await service.api("GET", `/webhooks/${webhook.id}`)).status, 200);

  // WHEN Tab leaves an open menu THEN it closes
  await page.keyboard.press("Enter");
  await menu.waitFor({ state: "visible" });
  assert.equal((await focused(page)).text, "Edit");
  await page.keyboard.press("Tab");
  await menu.waitFor({ state: "hidden" });

  // GIVEN focus on the Enabled switch WHEN Space is pressed THEN it turns off, in the API too
  const toggle = row.getByRole("switch", { name: "Enabled: Keyboard hook" });
  await toggle.focus();
  assert.equal(await toggle.getAttribute("aria-checked"), "true");
  await page.keyboard.press("Space");
  await waitFor(async () => (await toggle.getAttribute("aria-checked")) === "false", { message: "the switch off" });
  assert.equal((await service.api("GET", `/webhooks/${webhook.id}`)).body.enabled, false);
  // WHEN Space is pressed again THEN it turns back on; Enter flips it as well
  await page.keyboard.press("Space");
  await waitFor(async () => (await toggle.getAttribute("aria-checked")) === "true", { message: "the switch on" });
  assert.equal((await service.api("GET", `/webhooks/${webhook.id}`)).body.enabled, true);
  await page.keyboard.press("Enter");
  await waitFor(async () => (await toggle.getAttribute("aria-checked")) === "false", { message: "the switch off by Enter" });
  assert.equal((await service.api("GET", `/webhooks/${webhook.id}`)).body.enabled, false);
  assert.equal((await focused(page)).role, "switch", "focus stays on the switch");

  // WHEN Enter chooses Edit from the menu THEN the form opens with focus on its heading
  await button.focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { level: 1, name: "Edit Keyboard hook" }).waitFor();
  await waitFor(async () => (await focused(page)).text === "Edit Keyboard hook", { message: "focus on the heading" });

  assert.deepEqual(errors, []);
});

test("a menu opened while a dialog is still closing keeps the focus", { timeout: 60_000 }, async () => {
  const { page, errors } = browser;
  await page.goto(service.url);
  const row = page.locator(`tr[data-id="${webhook.id}"]`);
  await row.waitFor();
  const button = row.getByRole("button", { name: "Actions for Keyboard hook" });
  await button.focus();
  await page.keyboard.press("ArrowUp");
  await page.keyboard.press("Enter");
  const confirm = page.getByRole("dialog", { name: "Delete webhook?" });
  await confirm.waitFor();

  // GIVEN the confirmation closing WHEN the menu is opened before the dialog's close
  // event has run (a fast user: Escape, then Enter at once) THEN focus stays in the menu
  const menuButton = await button.elementHandle();
  await page.evaluate((opener) => {
    document.querySelector("dialog[open]").close("cancel");
    opener.click();
  }, menuButton);
  await page.waitForFunction(() => !document.querySelector("dialog"));
  assert.deepEqual(await focused(page), { role: "menuitem", text: "Edit", label: null });
  await page.keyboard.press("Escape");
  assert.equal((await service.api("GET", `/webhooks/${webhook.id}`)).status, 200);
  assert.deepEqual(errors, []);
});

test("every form control has a label", { timeout: 60_000 }, async () => {
  const { page } = browser;
  await page.goto(`${service.url}/#/webhooks/new`);
  await page.getByRole("heading", { level: 1, name: "New webhook" }).waitFor();
  await page.getByRole("radio", { name: "Chosen clients" }).check();
  await page.getByRole("radio", { name: "Enter my own secret" }).check();
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll("input, select, textarea")]
    .filter((control) => !control.labels?.length && !control.getAttribute("aria-label"))
    .map((control) => control.id || control.name));
  assert.deepEqual(unlabelled, []);
});
