// Shared pieces of the interface: the status region, modal dialogs, the confirmation
// and token prompts, the actions menu button, the switch and the copy button.

import { h, replace, uid } from "./dom.js";

// ---------------------------------------------------------------- status region

const region = () => document.getElementById("status");
let flashed = null;

function show(kind, message) {
  const dismiss = h("button", {
    type: "button", class: "status-dismiss", "aria-label": "Dismiss message",
    on: { click: () => status.clear() },
  }, "×");
  replace(region(), h("div", { class: `status-message status-${kind}`, dataset: { kind } },
    h("span", { class: "status-icon", "aria-hidden": "true", text: kind === "error" ? "!" : kind === "success" ? "✓" : "i" }),
    h("span", { class: "status-text", text: message }),
    dismiss));
}

/** Messages for everyone (an aria-live region under the top bar). */
export const status = {
  info: (message) => show("info", message),
  success: (message) => show("success", message),
  /** An ApiError shows its problem detail; anything else its message. */
  error: (error) => show("error", typeof error === "string" ? error : error?.detail ?? error?.message ?? String(error)),
  clear: () => replace(region()),
  /** Shown after the next screen change instead of being cleared by it. */
  flash: (kind, message) => { flashed = { kind, message }; },
  /** Called by the router on every screen change. */
  navigated() {
    if (flashed) show(flashed.kind, flashed.message);
    else status.clear();
    flashed = null;
  },
};

// ---------------------------------------------------------------- dialogs

/**
 * A modal <dialog>: focus moves into it (to `initialFocus` when given), Escape closes
 * it, the page behind is inert, and focus goes back to `returnFocus` (by default the
 * element that had it) when it closes. Returns {element, close(value), closed}.
 */
export function openDialog({ title, body = [], footer = [], initialFocus, returnFocus, wide = false, describe }) {
  const opener = returnFocus ?? document.activeElement;
  const titleId = uid("dialog-title");
  const bodyId = uid("dialog-body");
  const element = h("dialog", {
    class: wide ? "dialog dialog-wide" : "dialog",
    "aria-labelledby": titleId,
    "aria-describedby": describe ? bodyId : null,
  },
  h("div", { class: "dialog-header" }, h("h2", { id: titleId, class: "dialog-title", text: title })),
  h("div", { class: "dialog-body", id: bodyId }, body),
  footer.length ? h("div", { class: "dialog-footer" }, footer) : null);
  document.body.append(element);
  const focusedBefore = document.activeElement;
  const closed = new Promise((resolve) => {
    element.addEventListener("close", () => {
      const value = element.returnValue;
      element.remove();
      // The close event runs a task after the dialog closed, and the browser has put
      // focus back on the element that had it before. Move it to `opener` only if it is
      // still there or lost: a user who already went on (opened a menu) keeps the focus.
      const active = document.activeElement;
      const untouched = !active || active === document.body || active === focusedBefore;
      const target = typeof opener?.focus === "function" && opener.isConnected ? opener : document.querySelector("main h1");
      if (untouched) target?.focus();
      resolve(value);
    }, { once: true });
  });
  element.showModal();
  if (initialFocus) initialFocus.focus();
  return {
    element,
    closed,
    close(value = "") {
      if (element.open) element.close(value);
    },
  };
}

/** "Are you sure?" — resolves true when confirmed. Cancel has the focus first. */
export async function confirmDialog({ title, message, confirmLabel, danger = false, returnFocus }) {
  const cancel = h("button", { type: "button", class: "btn", text: "Cancel" });
  const confirm = h("button", { type: "button", class: danger ? "btn btn-danger" : "btn btn-primary", text: confirmLabel });
  const dialog = openDialog({
    title, body: message, footer: [cancel, confirm], initialFocus: cancel, returnFocus, describe: true,
  });
  cancel.addEventListener("click", () => dialog.close("cancel"));
  confirm.addEventListener("click", () => dialog.close("confirm"));
  return (await dialog.closed) === "confirm";
}

/** Asks for the API token; resolves to it, or null when cancelled. */
export async function tokenDialog({ rejected }) {
  const inputId = uid("token");
  const errorId = uid("token-error");
  const input = h("input", {
    id: inputId, name: "token", type: "password", class: "input", autocomplete: "off",
    spellcheck: "false", required: true, "aria-describedby": `${errorId} ${inputId}-hint`,
  });
  const error = h("p", { id: errorId, class: "field-error", hidden: !rejected, text: rejected ? "That token was rejected. Check it and try again." : "" });
  const cancel = h("button", { type: "button", class: "btn", text: "Cancel" });
  const submit = h("button", { type: "submit", class: "btn btn-primary", text: "Sign in", form: `${inputId}-form` });
  const form = h("form", { id: `${inputId}-form`, class: "stack", novalidate: true },
    h("p", { text: "This API needs a token. Paste the token `webhooks serve` was started with, or a JWT for the deployed API. It is kept in this browser tab only, until you close it." }),
    h("div", { class: "field" },
      h("label", { for: inputId, class: "label", text: "API token" }),
      input,
      h("p", { id: `${inputId}-hint`, class: "hint", text: "Sent as Authorization: Bearer <token>." }),
      error));
  const dialog = openDialog({ title: "Sign in to the API", body: form, footer: [cancel, submit], initialFocus: input });
  let token = null;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) {
      error.textContent = "Enter the token.";
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    token = value;
    dialog.close("token");
  });
  cancel.addEventListener("click", () => dialog.close("cancel"));
  await dialog.closed;
  return token;
}

// ---------------------------------------------------------------- actions menu

/**
 * A menu button (WAI-ARIA pattern): Enter, Space or ArrowDown opens it on the first
 * item, ArrowUp on the last; arrows, Home and End move; Escape closes it and returns
 * focus to the button; Tab or a click elsewhere closes it.
 * items: [{label, onSelect, danger?}]
 */
export function actionsMenu({ label, items }) {
  const buttonId = uid("menu-button");
  const menuId = uid("menu");
  const button = h("button", {
    type: "button", id: buttonId, class: "btn btn-icon menu-button", "aria-label": label,
    "aria-haspopup": "menu", "aria-expanded": "false", "aria-controls": menuId,
  }, h("span", { class: "kebab", "aria-hidden": "true" }, h("span"), h("span"), h("span")));
  const entries = items.map((item) => h("button", {
    type: "button", role: "menuitem", tabindex: "-1",
    class: item.danger ? "menu-item menu-item-danger" : "menu-item", text: item.label,
  }));
  const menu = h("ul", { id: menuId, role: "menu", class: "menu", "aria-labelledby": buttonId, hidden: true },
    entries.map((entry) => h("li", { role: "none" }, entry)));
  const wrapper = h("div", { class: "menu-wrapper" }, button, menu);

  const isOpen = () => !menu.hidden;
  const focusItem = (index) => entries[(index + entries.length) % entries.length].focus();
  const onOutside = (event) => {
    if (!wrapper.contains(event.target)) close(false);
  };
  function open(index) {
    if (!isOpen()) {
      menu.hidden = false;
      menu.classList.remove("menu-up");
      button.setAttribute("aria-expanded", "true");
      if (menu.getBoundingClientRect().bottom > window.innerHeight) menu.classList.add("menu-up");
      document.addEventListener("pointerdown", onOutside, true);
    }
    focusItem(index);
  }
  function close(returnFocus) {
    if (!isOpen()) return;
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", onOutside, true);
    if (returnFocus) button.focus();
  }

  button.addEventListener("click", () => (isOpen() ? close(true) : open(0)));
  button.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") { event.preventDefault(); open(0); }
    if (event.key === "ArrowUp") { event.preventDefault(); open(-1); }
  });
  menu.addEventListener("keydown", (event) => {
    const index = entries.indexOf(document.activeElement);
    switch (event.key) {
      case "ArrowDown": event.preventDefault(); focusItem(index + 1); break;
      case "ArrowUp": event.preventDefault(); focusItem(index - 1); break;
      case "Home": event.preventDefault(); focusItem(0); break;
      case "End": event.preventDefault(); focusItem(-1); break;
      case "Escape": event.preventDefault(); event.stopPropagation(); close(true); break;
      case "Tab": close(false); break;
      default: break;
    }
  });
  entries.forEach((entry, index) => entry.addEventListener("click", () => {
    close(true);
    items[index].onSelect(button);
  }));
  return wrapper;
}

// ---------------------------------------------------------------- switch

/**
 * An on/off switch (role=switch, aria-checked). Space and Enter flip it, as a click
 * does. `onToggle(next)` returns a promise; the switch shows the new state when it
 * resolves to true and keeps the old one otherwise. Clicks while busy are ignored.
 */
export function switchButton({ checked, label, onToggle }) {
  const text = h("span", { class: "switch-text", "aria-hidden": "true" });
  const button = h("button", {
    type: "button", role: "switch", class: "switch", "aria-label": label,
  }, h("span", { class: "switch-track", "aria-hidden": "true" }, h("span", { class: "switch-thumb" })), text);
  const set = (value) => {
    button.setAttribute("aria-checked", String(value));
    text.textContent = value ? "On" : "Off";
  };
  set(checked);
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-busy") === "true") return;
    const next = button.getAttribute("aria-checked") !== "true";
    button.setAttribute("aria-busy", "true");
    try {
      if (await onToggle(next)) set(next);
    } finally {
      button.removeAttribute("aria-busy");
    }
  });
  return button;
}

// ---------------------------------------------------------------- copy

async function copyText(text, fallbackInput) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!fallbackInput) return false;
    fallbackInput.select();
    return document.execCommand("copy");
  }
}

/** A "Copy" button for `text`; `input` (optional) is selected when the clipboard API is unavailable. */
export function copyButton(text, { input, label = "Copy" } = {}) {
  const button = h("button", { type: "button", class: "btn", text: label });
  button.addEventListener("click", async () => {
    const copied = await copyText(text, input);
    button.textContent = copied ? "Copied" : "Select and copy it by hand";
    status[copied ? "success" : "error"](copied ? "Copied to the clipboard." : "The browser refused to copy; select the text and copy it by hand.");
    setTimeout(() => { button.textContent = label; }, 2000);
  });
  return button;
}
