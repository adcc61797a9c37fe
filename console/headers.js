// The form's "Custom headers" section: rows of name and value. Values are write-only:
// a saved header shows its name and a masked placeholder, never its value. A PATCH
// replaces the whole set, so the section is sent only when the admin changed it, and
// then every header kept needs its value typed again.

import { h } from "./dom.js";

export const MAX_HEADERS = 10;
const MASK = "•••••••• (stored, hidden)";

/**
 * The section for a webhook's `header_names` (none for a new webhook). Returns the
 * element, `changed()`, `problems()` (what to fix before saving, as API-style field
 * errors) and `value()`: the `headers` to send (an object, or null for none).
 */
export function headersSection(savedNames = []) {
  let counter = 0;
  let touched = false;
  const rows = h("div", { class: "header-rows" });
  const error = h("p", { class: "field-error", id: "wh-headers-error", hidden: true });
  const add = h("button", { type: "button", class: "btn btn-small", id: "wh-header-add", text: "Add header" });
  const hint = h("p", { class: "hint", id: "wh-headers-hint" },
    savedNames.length
      ? "Values are write-only and shown masked. Leave this section as it is to keep every header; once you change it, the whole set is replaced: type the value of each header you keep again."
      : "Sent with every delivery and connection test, e.g. Authorization: Splunk <token>. Up to 10. Values are write-only: shown only as you type them.");

  function row({ name = "", saved = false } = {}) {
    const n = ++counter;
    const nameInput = h("input", { id: `wh-header-name-${n}`, class: "input mono header-name", autocomplete: "off", spellcheck: "false", maxlength: "64", placeholder: "Authorization", value: name, "aria-describedby": "wh-headers-hint wh-headers-error" });
    const valueInput = h("input", { id: `wh-header-value-${n}`, class: "input mono header-value", autocomplete: "off", spellcheck: "false", maxlength: "1024", placeholder: saved ? MASK : "Splunk <token>", "aria-describedby": "wh-headers-hint wh-headers-error" });
    const remove = h("button", { type: "button", class: "btn btn-ghost btn-small", text: "Remove", "aria-label": `Remove header ${n}` });
    const element = h("div", { class: "header-row", dataset: { saved: saved ? "true" : "false" } },
      h("div", { class: "header-cell" }, h("label", { class: "label", for: nameInput.id, text: `Header ${n} name` }), nameInput),
      h("div", { class: "header-cell" }, h("label", { class: "label", for: valueInput.id, text: `Header ${n} value` }), valueInput),
      remove);
    remove.addEventListener("click", () => {
      touched = true;
      element.remove();
      sync();
      add.focus();
    });
    return element;
  }

  function entries() {
    return [...rows.querySelectorAll(".header-row")].map((element) => ({
      element,
      saved: element.dataset.saved === "true",
      name: element.querySelector(".header-name").value.trim(),
      value: element.querySelector(".header-value").value,
    }));
  }

  function sync() {
    add.disabled = rows.children.length >= MAX_HEADERS;
  }

  for (const name of savedNames) rows.append(row({ name, saved: true }));
  sync();
  add.addEventListener("click", () => {
    touched = true;
    const added = row();
    rows.append(added);
    sync();
    added.querySelector("input").focus();
  });
  rows.addEventListener("input", () => { touched = true; });

  const element = h("fieldset", { class: "fieldset", dataset: { field: "headers" }, "aria-describedby": "wh-headers-hint wh-headers-error" },
    h("legend", { class: "label", text: "Custom headers" }),
    hint, rows, h("div", {}, add), error);

  return {
    element,
    error,
    firstControl: () => rows.querySelector("input") ?? add,
    changed: () => touched,
    problems() {
      const found = [];
      for (const entry of entries()) {
        if (!entry.name && !entry.value) continue;
        if (!entry.name) found.push({ field: "headers", message: "A header with a value needs a name." });
        else if (entry.saved && entry.value === "") {
          found.push({ field: "headers", message: `Type the value of ${entry.name} again: changing the headers replaces them all, and stored values are never shown.` });
        }
      }
      return found;
    },
    value() {
      const headers = {};
      for (const { name, value } of entries()) if (name) headers[name] = value;
      return Object.keys(headers).length ? headers : null;
    },
  };
}
