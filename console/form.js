// The New / Edit webhook form, with the Test connection panel beside it.

import { api } from "./api.js";
import { h, replace, timeElement } from "./dom.js";
import { headersSection } from "./headers.js";
import { renderReport } from "./report.js";
import { copyButton, openDialog, status } from "./ui.js";

const FIELDS = ["name", "clients", "url", "event", "secret"];

/** "a, b\nc" → ["a", "b", "c"] */
export function parseClientIds(text) {
  return text.split(/[,\n]/).map((id) => id.trim()).filter(Boolean);
}

/** The rate limit field's text → the API's value: "" is none (null), else the number (the API checks it). */
export function parseRateLimit(text) {
  const trimmed = text.trim();
  return trimmed === "" ? null : Number(trimmed);
}

function field({ id, label, control, hint, name }) {
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  control.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  return h("div", { class: "field", dataset: { field: name } },
    h("label", { class: "label", for: id, text: label }),
    control,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    h("p", { class: "field-error", id: errorId, hidden: true }));
}

function radio({ name, value, label, checked, id }) {
  return h("div", { class: "radio" },
    h("input", { type: "radio", name, value, id, checked: Boolean(checked) }),
    h("label", { for: id, text: label }));
}

/** Shows the generated secret once, with a Copy button. Resolves when dismissed. */
async function revealSecret(webhook, secret) {
  const input = h("input", { id: "revealed-secret", class: "input mono", readonly: true, value: secret, "aria-describedby": "revealed-secret-hint" });
  const done = h("button", { type: "button", class: "btn btn-primary", text: "Done" });
  const dialog = openDialog({
    title: "Copy the signing secret",
    body: [
      h("p", {}, "This is the only time the secret of ", h("strong", { text: webhook.name }), " is shown. Store it where your receiver can read it: it verifies each delivery's signature with it."),
      h("div", { class: "field" },
        h("label", { class: "label", for: "revealed-secret", text: "Signing secret" }),
        h("div", { class: "input-row" }, input, copyButton(secret, { input })),
        h("p", { class: "hint", id: "revealed-secret-hint", text: "Write-only: the API never returns it again. Replace it from Edit if it is lost." })),
    ],
    footer: [done],
    initialFocus: input,
  });
  input.select();
  done.addEventListener("click", () => dialog.close());
  await dialog.closed;
}

export async function renderForm(main, { id } = {}) {
  const editing = Boolean(id);
  replace(main, h("p", { class: "empty loading", "aria-busy": "true", text: editing ? "Loading the webhook…" : "Loading…" }));
  let webhook = null;
  let types;
  try {
    [types, webhook] = await Promise.all([api.eventTypes(), editing ? api.getWebhook(id) : null]);
  } catch (error) {
    replace(main,
      h("div", { class: "page-header" }, h("div", {},
        h("a", { class: "back-link", href: "#/webhooks", text: "← Webhooks" }),
        h("h1", { tabindex: "-1", text: editing ? "Edit webhook" : "New webhook" }))),
      h("div", { class: "card empty" }, h("p", { text: error.status === 404 ? "This webhook does not exist (any more)." : "The form could not be loaded." })));
    status.error(error);
    return;
  }

  // ------------------------------------------------------------ controls
  const name = h("input", { id: "wh-name", name: "name", class: "input", autocomplete: "off", value: webhook?.name ?? "", maxlength: "128" });
  const url = h("input", { id: "wh-url", name: "url", type: "url", class: "input mono", inputmode: "url", autocomplete: "off", spellcheck: "false", placeholder: "https://example.com/webhooks", value: webhook?.url ?? "" });
  const rate = h("input", { id: "wh-rate", name: "rate_limit_per_second", type: "number", class: "input input-number", inputmode: "numeric", min: "1", max: "10000", step: "1", autocomplete: "off", placeholder: "No limit", value: webhook?.rate_limit_per_second ?? "" });
  const event = h("select", { id: "wh-event", name: "event", class: "select" },
    types.map((type) => h("option", { value: type.id, text: type.id, selected: webhook?.event === type.id })));
  const eventHint = h("span");
  const describeEvent = () => { eventHint.textContent = types.find((t) => t.id === event.value)?.description ?? ""; };
  describeEvent();

  const chosen = Array.isArray(webhook?.clients);
  const scopeAll = radio({ name: "scope", value: "all", label: "All clients", checked: !chosen, id: "wh-scope-all" });
  const scopeChosen = radio({ name: "scope", value: "chosen", label: "Chosen clients", checked: chosen, id: "wh-scope-chosen" });
  const clientIds = h("textarea", { id: "wh-clients", name: "clients", class: "input mono", rows: "2", spellcheck: "false", value: chosen ? webhook.clients.join("\n") : "" });
  const clientsField = field({ id: "wh-clients", name: "clients-ids", label: "Client ids", control: clientIds, hint: "Separate ids with commas or new lines; up to 100." });
  const clientsError = h("p", { class: "field-error", id: "wh-scope-error", hidden: true });

  const configured = Boolean(webhook?.secret_configured);
  const secretModes = editing
    ? [
      { value: "keep", label: configured ? "Keep the current secret" : "No secret" },
      { value: "generate", label: configured ? "Replace with a generated secret" : "Generate a secret" },
      { value: "custom", label: configured ? "Replace with my own secret" : "Enter my own secret" },
      configured ? { value: "remove", label: "Remove the secret (deliveries go unsigned)" } : null,
    ].filter(Boolean)
    : [
      { value: "none", label: "No secret" },
      { value: "generate", label: "Generate a secret" },
      { value: "custom", label: "Enter my own secret" },
    ];
  const secretInput = h("input", { id: "wh-secret", name: "secret", type: "password", class: "input mono", autocomplete: "new-password", spellcheck: "false" });
  const secretField = field({ id: "wh-secret", name: "secret-value", label: "Secret", control: secretInput, hint: "16–256 characters. Write-only: it is never shown again." });
  const secretError = h("p", { class: "field-error", id: "wh-secret-mode-error", hidden: true });
  const secretRadios = secretModes.map((mode, index) => radio({ name: "secret-mode", value: mode.value, label: mode.label, checked: index === 0, id: `wh-secret-${mode.value}` }));

  const headers = headersSection(webhook?.header_names ?? []);

  const formError = h("p", { class: "form-error", tabindex: "-1", hidden: true });
  const save = h("button", { type: "submit", class: "btn btn-primary", text: editing ? "Save changes" : "Save webhook" });
  const cancel = h("a", { class: "btn", href: "#/webhooks", text: "Cancel" });

  const form = h("form", { class: "card form", novalidate: true, "aria-labelledby": "form-title" },
    field({ id: "wh-name", name: "name", label: "Name", control: name, hint: "A name admins will recognise, e.g. SIEM relay." }),
    h("fieldset", { class: "fieldset", dataset: { field: "clients" }, "aria-describedby": "wh-scope-error" },
      h("legend", { class: "label", text: "Clients" }),
      h("div", { class: "radio-row" }, scopeAll, scopeChosen),
      clientsField,
      clientsError),
    field({ id: "wh-url", name: "url", label: "URL", control: url, hint: "The endpoint that receives a POST for each event. Redirects are not followed." }),
    field({ id: "wh-event", name: "event", label: "Event", control: event, hint: eventHint }),
    field({ id: "wh-rate", name: "rate_limit_per_second", label: "Rate limit (per second)", control: rate, hint: "At most this many requests a second, 1–10000; deliveries beyond it wait, none is dropped. Empty: no limit." }),
    h("fieldset", { class: "fieldset", dataset: { field: "secret" }, "aria-describedby": "wh-secret-mode-error" },
      h("legend", { class: "label" }, "Signing secret",
        editing ? h("span", { class: configured ? "badge badge-ok" : "badge", text: configured ? "Secret configured" : "No secret" }) : null),
      h("div", { class: "radio-column" }, secretRadios),
      secretField,
      secretError),
    headers.element,
    formError,
    h("div", { class: "form-actions" }, cancel, save));

  // ------------------------------------------------------------ test panel
  const testButton = h("button", { type: "button", class: "btn", id: "test-connection", text: "Test connection" });
  const testResult = h("div", { class: "test-result", "aria-live": "polite" },
    h("p", { class: "muted", text: "Check the endpoint before saving: the test POSTs a signed sample of the chosen event to the URL in the form and reports each check." }));
  const panel = h("aside", { class: "card test-panel", "aria-labelledby": "test-title" },
    h("div", { class: "test-panel-header" }, h("h2", { id: "test-title", text: "Connection test" }), testButton),
    testResult);

  replace(main,
    h("div", { class: "page-header" },
      h("div", {},
        h("a", { class: "back-link", href: "#/webhooks", text: "← Webhooks" }),
        h("h1", { tabindex: "-1", id: "form-title", text: editing ? `Edit ${webhook.name}` : "New webhook" }),
        editing
          ? h("p", { class: "page-meta" },
            h("span", { class: "mono", text: webhook.id }), " · version ", String(webhook.version), " · updated ", timeElement(webhook.updated_at))
          : h("p", { class: "page-lead", text: "Choose what to send where. You can test the endpoint before saving." }))),
    webhook?.disabled_reason ? h("p", { class: "notice notice-warn", text: `Disabled by the service: ${webhook.disabled_reason}` }) : null,
    h("div", { class: "form-layout" }, form, panel));

  // ------------------------------------------------------------ behaviour
  const scope = () => form.querySelector("input[name=scope]:checked").value;
  const secretMode = () => form.querySelector("input[name=secret-mode]:checked").value;
  const sync = () => {
    clientsField.hidden = scope() !== "chosen";
    secretField.hidden = secretMode() !== "custom";
  };
  sync();
  form.addEventListener("change", (e) => {
    sync();
    if (e.target === event) describeEvent();
    if (e.target.name === "scope" && scope() === "chosen") clientIds.focus();
    if (e.target.name === "secret-mode" && secretMode() === "custom") secretInput.focus();
  });

  const errorTargets = {
    name: { control: name, error: document.getElementById("wh-name-error") },
    url: { control: url, error: document.getElementById("wh-url-error") },
    event: { control: event, error: document.getElementById("wh-event-error") },
    rate_limit_per_second: { control: rate, error: document.getElementById("wh-rate-error") },
    clients: { control: () => (scope() === "chosen" ? clientIds : form.querySelector("#wh-scope-all")), error: () => (scope() === "chosen" ? document.getElementById("wh-clients-error") : clientsError) },
    secret: { control: () => (secretMode() === "custom" ? secretInput : form.querySelector("input[name=secret-mode]:checked")), error: () => (secretMode() === "custom" ? document.getElementById("wh-secret-error") : secretError) },
    headers: { control: headers.firstControl, error: headers.error },
  };
  const resolve = (value) => (typeof value === "function" ? value() : value);

  function clearErrors() {
    form.querySelectorAll(".field-error").forEach((el) => { el.hidden = true; el.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    formError.hidden = true;
    formError.textContent = "";
  }

  /** Puts each of the problem's field errors next to its field; returns whether any was placed. */
  function showErrors(error) {
    let first = null;
    const unplaced = [];
    for (const { field: key, message } of error.errors ?? []) {
      const target = errorTargets[key];
      if (!target) { unplaced.push(`${key}: ${message}`); continue; }
      const element = resolve(target.error);
      const control = resolve(target.control);
      element.textContent = element.textContent ? `${element.textContent} ${message}` : message;
      element.hidden = false;
      control.setAttribute("aria-invalid", "true");
      first ??= control;
    }
    if (unplaced.length || !first) {
      formError.textContent = unplaced.length ? unplaced.join("; ") : error.detail;
      formError.hidden = false;
    }
    status.error(error);
    (first ?? formError).focus?.();
    return Boolean(first);
  }

  function currentClients() {
    return scope() === "all" ? "all" : parseClientIds(clientIds.value);
  }

  function body() {
    const fields = { name: name.value, url: url.value.trim(), event: event.value, clients: currentClients() };
    const mode = secretMode();
    if (mode === "generate") fields.secret = "generate";
    if (mode === "custom") fields.secret = secretInput.value;
    if (mode === "remove") fields.secret = null;
    const limit = parseRateLimit(rate.value);
    const customHeaders = headers.value();
    if (!editing) {
      if (customHeaders) fields.headers = customHeaders;
      return limit === null ? fields : { ...fields, rate_limit_per_second: limit };
    }
    const changes = {};
    for (const key of ["name", "url", "event"]) if (fields[key] !== webhook[key]) changes[key] = fields[key];
    if (limit !== (webhook.rate_limit_per_second ?? null)) changes.rate_limit_per_second = limit;
    if (JSON.stringify(fields.clients) !== JSON.stringify(webhook.clients)) changes.clients = fields.clients;
    if ("secret" in fields) changes.secret = fields.secret;
    // Untouched, the stored headers stay; touched, the whole set is sent (it replaces).
    if (headers.changed()) changes.headers = customHeaders;
    return changes;
  }

  testButton.addEventListener("click", async () => {
    clearErrors();
    const target = { url: url.value.trim(), event: event.value };
    if (secretMode() === "custom" && secretInput.value) target.secret = secretInput.value;
    testButton.disabled = true;
    testButton.textContent = "Testing…";
    testResult.setAttribute("aria-busy", "true");
    replace(testResult, h("p", { class: "muted", text: "Sending a test request…" }));
    try {
      const report = await api.testUnsaved(target);
      const unsigned = !target.secret && (secretMode() === "generate" || (secretMode() === "keep" && configured));
      replace(testResult, renderReport(report),
        unsigned ? h("p", { class: "hint", text: "Sent unsigned: the secret is used only once saved. After saving, Test in the webhook's actions menu signs with it." }) : null);
      status.info(report.ok ? "Connection test passed." : "Connection test failed: see the checks.");
    } catch (error) {
      replace(testResult, h("p", { class: "form-error", text: error.detail }));
      showErrors(error);
    } finally {
      testButton.disabled = false;
      testButton.textContent = "Test connection";
      testResult.removeAttribute("aria-busy");
    }
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors();
    if (rate.validity.badInput) {
      // The browser keeps text that is not a number from the field's value: say so here.
      showErrors({ detail: "The rate limit is not a number.", errors: [{ field: "rate_limit_per_second", message: "Enter a whole number from 1 to 10000, or leave it empty for no limit." }] });
      return;
    }
    const headerProblems = editing && !headers.changed() ? [] : headers.problems();
    if (headerProblems.length) {
      showErrors({ detail: headerProblems.map((p) => p.message).join(" "), errors: headerProblems });
      return;
    }
    const fields = body();
    if (editing && !Object.keys(fields).length) {
      status.flash("info", "Nothing changed.");
      window.location.hash = "#/webhooks";
      return;
    }
    save.disabled = true;
    try {
      const saved = editing
        ? await api.updateWebhook(webhook.id, fields, webhook.version)
        : await api.createWebhook(fields);
      if (saved.secret) await revealSecret(saved, saved.secret);
      status.flash("success", `${editing ? "Saved" : "Created"} ${saved.name}.`);
      window.location.hash = "#/webhooks";
    } catch (error) {
      if (error.status === 412) {
        error.detail = `${error.detail}. Someone else changed this webhook: reload the page to edit the latest version.`;
      }
      showErrors(error);
    } finally {
      save.disabled = false;
    }
  });
}
