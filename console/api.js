// The HTTP API client: JSON in and out, problem+json errors as ApiError, and the
// bearer token asked for once on the first 401 and kept for this browser session.

const TOKEN_KEY = "webhooks-console.token";

const config = window.WEBHOOKS_CONSOLE ?? {};
export const apiBase = String(config.apiBase ?? "").replace(/\/+$/, "");

/** An API answer that was not a success, with the problem's detail and field errors. */
export class ApiError extends Error {
  constructor(status, problem = {}) {
    const detail = problem.detail || problem.message || problem.title
      || (status ? `the API answered HTTP ${status}` : "the API could not be reached");
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.title = problem.title ?? "";
    this.detail = detail;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

let askForToken = async () => null;
let pendingPrompt = null;
const tokenListeners = new Set();

/** `ask({rejected})` shows the prompt and resolves to a token, or null when cancelled. */
export function setTokenPrompt(ask) {
  askForToken = ask;
}

export function onTokenChange(listener) {
  tokenListeners.add(listener);
  listener(hasToken());
}

export function hasToken() {
  return Boolean(sessionStorage.getItem(TOKEN_KEY));
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  tokenListeners.forEach((listener) => listener(false));
}

function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  tokenListeners.forEach((listener) => listener(true));
}

/** One prompt for every call that got a 401 at the same time. */
function newToken(rejectedToken) {
  if (!pendingPrompt) {
    pendingPrompt = (async () => {
      try {
        const token = await askForToken({ rejected: Boolean(rejectedToken) });
        if (token) storeToken(token);
        else if (rejectedToken) forgetToken();
        return token || null;
      } finally {
        pendingPrompt = null;
      }
    })();
  }
  return pendingPrompt;
}

async function body(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("json")) {
    try {
      return JSON.parse(text);
    } catch {
      return { detail: `the API answered HTTP ${response.status} with malformed JSON` };
    }
  }
  return response.ok ? text : { detail: text.slice(0, 300) };
}

/**
 * request("PATCH", "/webhooks/wh_1", {body: {...}, headers: {"If-Match": '"3"'}})
 * → {status, data, headers}; throws ApiError for any non-2xx answer.
 */
export async function request(method, path, { body: payload, headers = {}, query } = {}) {
  let url = `${apiBase}${path}`;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(key, value);
    }
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  for (;;) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const init = {
      method,
      headers: { Accept: "application/json, application/problem+json", ...headers },
      credentials: "omit",
    };
    if (token) init.headers.Authorization = `Bearer ${token}`;
    if (payload !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      throw new ApiError(0, { detail: `cannot reach the API at ${apiBase || window.location.origin}: ${error.message}` });
    }
    const data = await body(response);
    if (response.status === 401) {
      const fresh = await newToken(token);
      if (fresh) continue;
      throw new ApiError(401, data ?? {});
    }
    if (!response.ok) throw new ApiError(response.status, data && typeof data === "object" ? data : {});
    return { status: response.status, data, headers: response.headers };
  }
}

const id = (value) => encodeURIComponent(value);

let eventTypes = null;

export const api = {
  async eventTypes() {
    if (!eventTypes) {
      eventTypes = request("GET", "/event-types").then((r) => r.data).catch((error) => {
        eventTypes = null;
        throw error;
      });
    }
    return eventTypes;
  },
  listWebhooks: (query) => request("GET", "/webhooks", { query }).then((r) => r.data),
  getWebhook: (webhookId) => request("GET", `/webhooks/${id(webhookId)}`).then((r) => r.data),
  createWebhook: (fields) => request("POST", "/webhooks", { body: fields }).then((r) => r.data),
  updateWebhook: (webhookId, fields, version) =>
    request("PATCH", `/webhooks/${id(webhookId)}`, {
      body: fields,
      headers: version === undefined ? {} : { "If-Match": `"${version}"` },
    }).then((r) => r.data),
  deleteWebhook: (webhookId) => request("DELETE", `/webhooks/${id(webhookId)}`),
  testUnsaved: (target) => request("POST", "/webhooks/test", { body: target }).then((r) => r.data),
  testSaved: (webhookId) => request("POST", `/webhooks/${id(webhookId)}/test`).then((r) => r.data),
  logs: (webhookId, query) => request("GET", `/webhooks/${id(webhookId)}/logs`, { query }).then((r) => r.data),
  delivery: (webhookId, deliveryId) =>
    request("GET", `/webhooks/${id(webhookId)}/logs/${id(deliveryId)}`).then((r) => r.data),
  redeliver: (webhookId, deliveryId) =>
    request("POST", `/webhooks/${id(webhookId)}/logs/${id(deliveryId)}/redeliver`).then((r) => r.data),
  stats: (webhookId, window) =>
    request("GET", `/webhooks/${id(webhookId)}/stats`, { query: { window } }).then((r) => r.data),
  recover: (webhookId, period) =>
    request("POST", `/webhooks/${id(webhookId)}/recover`, { body: period }).then((r) => r.data),
};
