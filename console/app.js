// The console's entry point: hash routes, the token prompt, and the top bar.
//   #/webhooks              the list
//   #/webhooks/new          the New webhook form
//   #/webhooks/{id}/edit    the Edit form
//   #/webhooks/{id}/logs    the delivery log

import { apiBase, forgetToken, onTokenChange, setTokenPrompt } from "./api.js";
import { h, replace } from "./dom.js";
import { renderForm } from "./form.js";
import { renderList } from "./list.js";
import { renderLogs } from "./logs.js";
import { status, tokenDialog } from "./ui.js";

const main = document.getElementById("main");

const ROUTES = [
  { pattern: /^#\/webhooks\/?$/, title: "Webhooks", render: (view) => renderList(view) },
  { pattern: /^#\/webhooks\/new$/, title: "New webhook", render: (view) => renderForm(view) },
  { pattern: /^#\/webhooks\/([^/]+)\/edit$/, title: "Edit webhook", render: (view, id) => renderForm(view, { id }) },
  { pattern: /^#\/webhooks\/([^/]+)\/logs$/, title: "Delivery log", render: (view, id) => renderLogs(view, { id }) },
];

let firstRender = true;

async function route() {
  const hash = window.location.hash || "#/webhooks";
  const match = ROUTES.map((r) => ({ route: r, found: hash.match(r.pattern) })).find((m) => m.found);
  if (!match) {
    window.location.replace("#/webhooks");
    return;
  }
  status.navigated();
  document.title = `${match.route.title} · Webhooks`;
  const param = match.found[1] ? decodeURIComponent(match.found[1]) : undefined;
  // Each screen draws into its own container, so a slow screen that finishes after
  // the user moved on draws into a detached node, not over the new screen.
  const view = h("div", { class: "view" });
  replace(main, view);
  try {
    await match.route.render(view, param);
  } catch (error) {
    replace(view, h("div", { class: "card empty" }, h("h1", { tabindex: "-1", text: "Something went wrong" }), h("p", { text: error.message })));
  }
  // Move focus to the new screen's heading (not on the first load: the page just opened).
  if (!firstRender && view.isConnected && !document.querySelector("dialog[open]")) view.querySelector("h1")?.focus();
  firstRender = false;
}

setTokenPrompt(tokenDialog);

const signOut = document.getElementById("sign-out");
onTokenChange((present) => { signOut.hidden = !present; });
signOut.addEventListener("click", () => {
  forgetToken();
  status.flash("info", "The token was forgotten; the next API call asks for it again.");
  route();
});

const baseLabel = document.getElementById("api-base");
baseLabel.textContent = apiBase ? `API ${apiBase}` : "";
baseLabel.hidden = !apiBase;

window.addEventListener("hashchange", route);
route();
