// The Webhooks screen: every webhook with its Enabled switch and actions menu.

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { healthIndicator } from "./health.js";
import { renderReport } from "./report.js";
import { actionsMenu, confirmDialog, openDialog, status, switchButton } from "./ui.js";

const PAGE_SIZE = 50;

export function clientsText(clients) {
  if (clients === "all") return "All clients";
  if (!Array.isArray(clients)) return String(clients);
  if (clients.length <= 3) return clients.join(", ");
  return `${clients.slice(0, 3).join(", ")} +${clients.length - 3} more`;
}

/** Runs the saved webhook's connection test (with its stored secret) in a dialog. */
export async function testSavedDialog(webhook, returnFocus) {
  const body = h("div", { class: "stack" },
    h("p", { class: "muted" }, "Sending a signed ", h("code", { text: "webhook.test" }), " request to ", h("span", { class: "mono", text: webhook.url }), "…"));
  const close = h("button", { type: "button", class: "btn", text: "Close" });
  const dialog = openDialog({ title: `Test connection: ${webhook.name}`, body, footer: [close], initialFocus: close, returnFocus, wide: true });
  close.addEventListener("click", () => dialog.close());
  body.setAttribute("aria-busy", "true");
  try {
    const report = await api.testSaved(webhook.id);
    replace(body, renderReport(report));
  } catch (error) {
    replace(body, h("p", { class: "form-error", text: error.detail ?? error.message }));
  } finally {
    body.removeAttribute("aria-busy");
  }
}

export async function renderList(main) {
  const filters = { event: "", enabled: "" };
  let cursor = null;

  const newButton = h("a", { class: "btn btn-primary", href: "#/webhooks/new" },
    h("span", { "aria-hidden": "true", class: "btn-plus", text: "+" }), "New webhook");
  const eventFilter = h("select", { id: "filter-event", class: "select" }, h("option", { value: "", text: "All events" }));
  const enabledFilter = h("select", { id: "filter-enabled", class: "select" },
    h("option", { value: "", text: "Enabled and disabled" }),
    h("option", { value: "true", text: "Enabled only" }),
    h("option", { value: "false", text: "Disabled only" }));
  const toolbar = h("div", { class: "toolbar" },
    h("div", { class: "toolbar-field" }, h("label", { for: "filter-event", class: "label", text: "Event" }), eventFilter),
    h("div", { class: "toolbar-field" }, h("label", { for: "filter-enabled", class: "label", text: "Status" }), enabledFilter));
  const tbody = h("tbody");
  const table = h("table", { class: "table webhooks-table" },
    h("caption", { class: "visually-hidden", text: "Webhooks" }),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col", text: "Name" }),
      h("th", { scope: "col", text: "URL" }),
      h("th", { scope: "col", text: "Event" }),
      h("th", { scope: "col", text: "Clients" }),
      h("th", { scope: "col", text: "Health (24 h)" }),
      h("th", { scope: "col", text: "Enabled" }),
      h("th", { scope: "col", class: "col-actions" }, h("span", { class: "visually-hidden", text: "Actions" })))),
    tbody);
  const more = h("button", { type: "button", class: "btn", text: "Load more", hidden: true });
  const content = h("div", { class: "card", "aria-busy": "true" }, h("p", { class: "empty loading", text: "Loading webhooks…" }));
  // Webhooks the service (or an admin) disabled, with why and an Enable action.
  const banner = h("section", { class: "banner banner-warning", "aria-labelledby": "disabled-banner-title", hidden: true });

  replace(main,
    h("div", { class: "page-header" },
      h("div", {},
        h("h1", { tabindex: "-1", text: "Webhooks" }),
        h("p", { class: "page-lead", text: "Endpoints that receive the platform's events, signed and retried until they answer." })),
      newButton),
    banner,
    toolbar,
    content);

  async function loadBanner() {
    let page;
    try {
      page = await api.listWebhooks({ enabled: "false", limit: 100 });
    } catch {
      banner.hidden = true; // the list itself reports a failure to load
      return;
    }
    const disabled = page.items;
    banner.hidden = disabled.length === 0;
    if (!disabled.length) return;
    const more = page.next_cursor ? " (the first 100 shown)" : "";
    replace(banner,
      h("h2", { id: "disabled-banner-title", class: "banner-title",
        text: `${disabled.length === 1 ? "1 webhook is" : `${disabled.length} webhooks are`} disabled${more}` }),
      h("ul", { class: "banner-list" }, disabled.map((webhook) => h("li", { class: "banner-item" },
        h("span", { class: "banner-name", text: webhook.name }),
        h("span", { class: "banner-reason", text: webhook.disabled_reason ?? "disabled by an admin" }),
        enableButton(webhook)))));
  }

  function enableButton(webhook) {
    const button = h("button", { type: "button", class: "btn btn-small", text: "Enable", "aria-label": `Enable ${webhook.name}` });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const updated = await api.updateWebhook(webhook.id, { enabled: true }, webhook.version);
        status.success(`${updated.name} is enabled.`);
        main.querySelector("h1")?.focus();
        await Promise.all([loadBanner(), load(true)]);
      } catch (error) {
        status.error(error.status === 412 ? `${error.detail}. The list was reloaded; try again.` : error);
        await Promise.all([loadBanner(), load(true)]);
      }
    });
    return button;
  }

  function row(webhook) {
    const tr = h("tr", { dataset: { id: webhook.id } });
    const toggle = switchButton({
      checked: webhook.enabled,
      label: `Enabled: ${webhook.name}`,
      onToggle: async (next) => {
        try {
          const updated = await api.updateWebhook(webhook.id, { enabled: next }, webhook.version);
          Object.assign(webhook, updated);
          status.success(`${updated.name} is ${updated.enabled ? "enabled" : "disabled"}.`);
          tr.querySelector(".disabled-reason")?.remove();
          loadBanner();
          return true;
        } catch (error) {
          status.error(error.status === 412 ? `${error.detail}. The list was reloaded; try again.` : error);
          if (error.status === 412) load(true);
          return false;
        }
      },
    });
    const menu = actionsMenu({
      label: `Actions for ${webhook.name}`,
      items: [
        { label: "Edit", onSelect: () => { window.location.hash = `#/webhooks/${encodeURIComponent(webhook.id)}/edit`; } },
        { label: "Test", onSelect: (button) => testSavedDialog(webhook, button) },
        { label: "View logs", onSelect: () => { window.location.hash = `#/webhooks/${encodeURIComponent(webhook.id)}/logs`; } },
        { label: "Delete", danger: true, onSelect: (button) => remove(webhook, tr, button) },
      ],
    });
    return replace(tr,
      h("td", { class: "cell-name" },
        h("span", { class: "webhook-name", text: webhook.name }),
        h("span", { class: "cell-sub", text: webhook.secret_configured ? "Signed" : "Unsigned" }),
        webhook.disabled_reason ? h("span", { class: "disabled-reason", text: webhook.disabled_reason }) : null),
      h("td", { class: "cell-url" }, h("span", { class: "mono truncate", title: webhook.url, text: webhook.url })),
      h("td", {}, h("span", { class: "pill mono", text: webhook.event })),
      h("td", { class: "cell-clients", title: Array.isArray(webhook.clients) ? webhook.clients.join(", ") : null, text: clientsText(webhook.clients) }),
      h("td", { class: "cell-health" }, healthIndicator(webhook.id)),
      h("td", {}, toggle),
      h("td", { class: "col-actions" }, menu));
  }

  async function remove(webhook, tr, button) {
    const confirmed = await confirmDialog({
      title: "Delete webhook?",
      message: [
        h("p", {}, "Delete ", h("strong", { text: webhook.name }), "? It stops receiving events at once and its secret is deleted."),
        h("p", { class: "muted", text: "Its delivery log stays readable until it expires. This cannot be undone." }),
      ],
      confirmLabel: "Delete webhook",
      danger: true,
      returnFocus: button,
    });
    if (!confirmed) return;
    try {
      await api.deleteWebhook(webhook.id);
      tr.remove();
      status.success(`Deleted ${webhook.name}.`);
      loadBanner();
      main.querySelector("h1")?.focus();
      if (!tbody.children.length) await load(true);
    } catch (error) {
      status.error(error);
    }
  }

  function empty() {
    const filtered = filters.event || filters.enabled;
    return h("div", { class: "empty" },
      h("h2", { class: "empty-title", text: filtered ? "No webhooks match these filters" : "No webhooks yet" }),
      h("p", { text: filtered
        ? "Change the event or status filter to see more."
        : "Create a webhook to have events of one type POSTed to your endpoint, for all clients or for chosen ones." }),
      filtered ? null : h("a", { class: "btn btn-primary", href: "#/webhooks/new", text: "Create a webhook" }));
  }

  async function load(reset) {
    if (reset) cursor = null;
    content.setAttribute("aria-busy", "true");
    more.disabled = true;
    try {
      const page = await api.listWebhooks({ ...filters, limit: PAGE_SIZE, cursor: cursor ?? undefined });
      if (reset) tbody.replaceChildren();
      page.items.forEach((webhook) => tbody.append(row(webhook)));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      if (!tbody.children.length) replace(content, empty());
      else if (!content.contains(table)) replace(content, h("div", { class: "table-wrap" }, table), h("div", { class: "table-footer" }, more));
    } catch (error) {
      if (reset) replace(content, h("p", { class: "empty", text: "The webhooks could not be loaded." }));
      status.error(error);
    } finally {
      content.removeAttribute("aria-busy");
      more.disabled = false;
    }
  }

  more.addEventListener("click", () => load(false));
  eventFilter.addEventListener("change", () => { filters.event = eventFilter.value; load(true); });
  enabledFilter.addEventListener("change", () => { filters.enabled = enabledFilter.value; load(true); });
  api.eventTypes().then((types) => {
    types.forEach((type) => eventFilter.append(h("option", { value: type.id, text: type.id })));
  }).catch(() => { /* the list itself reports the failure */ });
  await Promise.all([load(true), loadBanner()]);
}
