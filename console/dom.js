// A tiny element builder. Text always goes in through text nodes, never as HTML, so
// whatever the API returns is shown as written and never interpreted.

const PROPERTIES = new Set(["hidden", "disabled", "checked", "selected", "value", "required", "readOnly", "open"]);

/**
 * h("button", {class: "btn", type: "button", on: {click}}, "Save")
 * - `text`: the element's text; `class`: its class list;
 * - `on`: event listeners; `dataset`: data-* attributes;
 * - hidden/disabled/checked/selected/value/required/readOnly/open: set as properties;
 * - anything else: an attribute (skipped when null, undefined or false).
 * Children: nodes, strings (as text), arrays of them; null and false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null) continue;
    if (key === "text") element.textContent = String(value);
    else if (key === "class") element.className = value;
    else if (key === "on") for (const [type, listener] of Object.entries(value)) element.addEventListener(type, listener);
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (PROPERTIES.has(key)) element[key] = value;
    else if (value === false) continue;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces every child of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

let counter = 0;
/** A document-unique id with a readable prefix. */
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** "2026-11-28T12:00:05Z" → a local date and time; anything unparsable as written. */
export function formatTime(text) {
  if (!text) return "";
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return String(text);
  return date.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

/** A <time> element showing a local time, with the exact timestamp as its tooltip. */
export function timeElement(text) {
  return h("time", { datetime: text, title: text, text: formatTime(text) });
}

export function formatElapsed(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}
