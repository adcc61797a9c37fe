// What the browser tests share: the real `webhooks serve` on a free loopback port with
// a temporary database, a loopback receiver that records deliveries, Debian's
// chromium driven by playwright-core, and bounded waits. Every child is killed and
// every temporary directory removed by the returned stop functions.

import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { after, before } from "node:test";

import { chromium } from "playwright-core";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// Test runs write their screenshots under target/ (ignored by git); `make screenshots`
// points this at docs/screenshots to refresh the pictures the docs show.
export const SCREENSHOTS = process.env.SCREENSHOTS_DIR
  ? path.resolve(process.env.SCREENSHOTS_DIR)
  : path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target"), "console-screenshots");
export const BIN = process.env.WEBHOOKS_BIN
  ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target"), "debug", "webhooks");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/** Polls `probe` until it returns a truthy value; fails after `timeout` ms with `message`. */
export async function waitFor(probe, { timeout = 15_000, interval = 100, message = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${last ? `: ${last.message}` : ""}`);
    }
    await new Promise((resolve) => { setTimeout(resolve, interval); });
  }
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.kill("SIGKILL"); }, STOP_TIMEOUT_MS);
    child.once("exit", () => { clearTimeout(timer); resolve(); });
    child.kill("SIGTERM");
  });
}

/**
 * Starts `webhooks serve --addr 127.0.0.1:0` (the banner says which port it got) on a
 * fresh database. Returns {url, token, api(method, path, body), logs(), stop()}.
 */
export async function startService({ token } = {}) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run cargo build -p webhooks-cli first`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "webhooks-console-"));
  const args = ["serve", "--addr", "127.0.0.1:0", "--db", path.join(dir, "webhooks.db")];
  if (token) args.push("--token", token);
  const env = { ...process.env, RUST_LOG: "warn" };
  delete env.WEBHOOKS_API_TOKEN;
  delete env.WEBHOOKS_ALLOW_NETS;
  delete env.WEBHOOKS_REQUIRE_HTTPS;
  const child = spawn(BIN, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => { output += chunk; });
  child.stderr.on("data", (chunk) => { output += chunk; });
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const address = await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`webhooks serve exited with ${child.exitCode}:\n${output}`);
      return output.match(/API\s+http:\/\/(127\.0\.0\.1:\d+)/)?.[1];
    }, { timeout: START_TIMEOUT_MS, message: "the serve banner" });
    const url = `http://${address}`;
    await waitFor(async () => (await fetch(`${url}/`)).ok, { timeout: START_TIMEOUT_MS, message: "GET / to answer" });
    const api = async (method, route, body) => {
      const headers = { Accept: "application/json" };
      if (token) headers.Authorization = `Bearer ${token}`;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const response = await fetch(`${url}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
    };
    return { url, token, api, logs: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A receiver on a free loopback port that records every request and answers 200, or
 * 500 when the event's client_id starts with "fail", or 410 on a path ending in /gone
 * (and to the first request on one ending in /gone-once). Returns {url, requests, waitFor, stop}.
 */
export async function startReceiver() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json = null;
      try { json = JSON.parse(body); } catch { /* recorded as text */ }
      requests.push({ method: req.method, url: req.url, headers: req.headers, body, json });
      // A path ending in /gone answers 410 (the service disables such a webhook);
      // one ending in /gone-once answers 410 to its first request only.
      const goneOnce = req.url.endsWith("/gone-once") && !requests.slice(0, -1).some((r) => r.url === req.url);
      if (req.url.endsWith("/gone") || goneOnce) {
        res.writeHead(410, { "Content-Type": "text/plain" });
        res.end("gone");
        return;
      }
      const failing = typeof json?.client_id === "string" && json.client_id.startsWith("fail");
      res.writeHead(failing ? 500 : 200, { "Content-Type": "text/plain" });
      res.end(failing ? "receiver told to fail" : "ok");
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    waitFor: (predicate, message) => waitFor(() => requests.find(predicate), { message }),
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * Debian's chromium, headless, with a page at 1280x800. Collects the page's errors
 * (uncaught exceptions and console errors other than failed HTTP answers, which the
 * console shows itself), so a test can assert none happened — a CSP violation is one.
 */
export async function openBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    timeout: START_TIMEOUT_MS,
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-GB", timezoneId: "UTC" });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) errors.push(message.text());
  });
  return { browser, context, page, errors, close: () => browser.close() };
}

/** Saves SCREENSHOTS/<name> (1280 wide; `fullPage` for a screen taller than 800). */
export async function screenshot(page, name, { fullPage = false } = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, name), fullPage, animations: "disabled", caret: "hide" });
}

/** Lowercase hex HMAC-SHA256 of `body` keyed with the secret's UTF-8 bytes. */
export function hmacHex(secret, body) {
  return createHmac("sha256", Buffer.from(secret, "utf8")).update(body).digest("hex");
}

/**
 * The usual set-up of a test file: a receiver, the service and a browser, started
 * before its tests and stopped after them. Returns the object they are put in.
 */
export function startedAroundTests(serviceOptions = {}) {
  const world = {};
  before(async () => {
    world.receiver = await startReceiver();
    world.service = await startService(serviceOptions);
    world.browser = await openBrowser();
  });
  after(async () => {
    await world.browser?.close();
    await world.service?.stop();
    await world.receiver?.stop();
  });
  return world;
}
