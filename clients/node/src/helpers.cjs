"use strict";
// The helpers a test uses, acting on one app: MesiboMock's on its own app (`default`, or the appToken it
// was given), MesiboApp's on an app of a test's own. The same helpers, by the same names, are in the
// Python, PHP and Java clients (docs/clients.md holds the table, and a test holds the four to it).
//
// Every helper is scoped to its app's token; one that can act across apps takes {allApps: true}. The
// rules live in the server: strict mode is GET /_mock/mistakes, waiting is the server's long-poll with
// `count`, the failure report is GET /_mock/report.

const fs = require("node:fs");
const path = require("node:path");
const { randomBytes } = require("node:crypto");
const { MesiboMockError } = require("./errors.cjs");
const { WebhookReceiver } = require("./receiver.cjs");

const MAX_WAIT_SECONDS = 60; // the server's longest long-poll; a longer timeout is several

class Client {
  constructor(url, adminToken) {
    this.url = url.replace(/\/+$/, "").replace(/\/backend$/, "");
    this.headers = adminToken ? { authorization: `Bearer ${adminToken}` } : {};
  }

  async request(method, route, { query, json, body, raw = false, text = false } = {}) {
    let target = this.url + route;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) params.append(key, String(value));
    }
    if ([...params].length) target += "?" + params;
    const headers = { ...this.headers };
    if (json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(json);
    }
    let response;
    try {
      response = await fetch(target, { method, headers, body });
    } catch (error) {
      throw new MesiboMockError(`${method} ${route}: cannot reach mesibo-mock at ${this.url} (${error.cause?.code ?? error.message})`);
    }
    if (response.status >= 400) {
      const said = await response.text();
      throw new MesiboMockError(`${method} ${route} -> ${response.status}: ${said}`, { status: response.status, body: said });
    }
    if (raw) return Buffer.from(await response.arrayBuffer());
    const said = await response.text();
    if (text) return said;
    return said ? JSON.parse(said) : null;
  }
}

// Python keyword names in camelCase -> the server's query names.
const QUERY_NAMES = { pushToken: "push_token", pushId: "push_id", from_: "from" };

function queryOf(filters) {
  const query = {};
  for (const [key, value] of Object.entries(filters ?? {})) {
    if (value === undefined || value === null) continue;
    query[QUERY_NAMES[key] ?? key] = value;
  }
  return query;
}

class Helpers {
  constructor(client, token) {
    this.client = client;
    this.token = token;
    this.receivers = [];
    this.mistakesSeen = null; // where the findings a test read with mistakes() end
  }

  get url() {
    return this.client.url;
  }

  get backendUrl() {
    return this.client.url + "/backend";
  }

  get appToken() {
    return this.token;
  }

  appPath(rest = "") {
    return `/_mock/apps/${encodeURIComponent(this.token)}${rest}`;
  }

  /** The query of a list or a clearing: this app's, unless {allApps: true} or a token is given. */
  scope({ allApps, ...filters } = {}) {
    const query = queryOf(filters);
    if (!allApps && query.token === undefined) query.token = this.token;
    return query;
  }

  // --- the Mesibo backend ------------------------------------------------------------------------
  /** POST one op as JSON with this app's token; resolves to Mesibo's envelope (result true or false). */
  backend(op, fields = {}) {
    return this.client.request("POST", "/backend", { json: { op, token: this.token, ...fields } });
  }

  /** A real multipart pushupload; `credential` is a file path, or the file's bytes with `type` or `filename`. */
  async uploadCredential(credential, { type, filename } = {}) {
    let content;
    let name = filename;
    if (typeof credential === "string") {
      content = await fs.promises.readFile(credential);
      name = name ?? path.basename(credential);
    } else {
      content = credential;
      name = name ?? { fcm: "credential.json", apn: "credential.p12" }[(type ?? "").toLowerCase()];
      if (!name) throw new MesiboMockError("give {type: 'fcm' | 'apn'} or a filename with credential bytes");
    }
    const form = new FormData();
    form.append("op", "pushupload");
    form.append("token", this.token);
    if (type) form.append("type", type);
    form.append("file", new Blob([content]), name);
    return this.client.request("POST", "/backend", { body: form });
  }

  pushdebug(duration) {
    return this.backend("pushdebug", { push: duration === undefined ? {} : { duration } });
  }

  /** Send a message as a chat backend would; resolves to its mid. `to` null with {gid} for a group. */
  async sendMessage(from, to, message = "", { gid, ...extra } = {}) {
    const body = { from, message, ...extra, ...(to !== undefined && to !== null ? { to } : { gid }) };
    const answer = await this.backend("message", { message: body });
    if (!answer.result) throw new MesiboMockError(`message refused: ${JSON.stringify(answer)}`, { body: answer });
    return answer.mid;
  }

  // --- the app, its devices, users and groups ------------------------------------------------------
  /** The app as GET /_mock/apps/{token} shows it (credentials without keys, options, webhook). */
  app() {
    return this.client.request("GET", this.appPath());
  }

  /** Disable the app as Mesibo does on a token breach (every call answers TOKENBREACH), or lift it. */
  setDisabled(disabled = true) {
    return this.client.request("PUT", this.appPath(), { json: { disabled } });
  }

  /** Empty this app (users, groups, messages, devices, records, journal, faults); keep its token,
   * credentials, options, webhook and UACs. */
  resetApp() {
    return this.client.request("POST", this.appPath("/reset"), { json: {} });
  }

  /** Stand in for Mesibo's SDK on a phone. iOS tokens default to 64 hex digits, as APNs issues them. */
  registerDevice(address, { platform = "android", appid = "com.example.app", pushToken, voip, sandbox, responds } = {}) {
    const token = pushToken ?? (platform === "ios" ? randomHex(32) : "fcm-" + randomHex(12));
    const body = { address: String(address), platform, appid, push_token: token };
    if (voip !== undefined) body.voip = voip;
    if (sandbox !== undefined) body.sandbox = sandbox;
    if (responds !== undefined) body.responds = responds;
    return this.client.request("POST", this.appPath("/devices"), { json: body });
  }

  async devices(address) {
    return (await this.client.request("GET", this.appPath("/devices"), { query: { address } })).devices;
  }

  /** Forget a device (its id as registerDevice and devices() show it). */
  async removeDevice(deviceId) {
    await this.client.request("DELETE", this.appPath(`/devices/${deviceId}`));
  }

  /** Mark a user online (messages reach it without a push) or offline. */
  setOnline(address, online = true) {
    return this.client.request("PUT", this.appPath(`/users/${encodeURIComponent(address)}/online`), { json: { online } });
  }

  async users() {
    return (await this.client.request("GET", this.appPath("/users"))).users;
  }

  async groups() {
    return (await this.client.request("GET", this.appPath("/groups"))).groups;
  }

  /** The one-time codes the `otp` op made, newest first (where a real app sends an SMS). */
  async otps(address) {
    const { otps } = await this.client.request("GET", "/_mock/otps", { query: { token: this.token } });
    return address === undefined ? otps : otps.filter((otp) => otp.address === address);
  }

  /** One UAC (`uacset`) of the app, whole. */
  uac(id) {
    return this.client.request("GET", this.appPath(`/uacs/${id}`));
  }

  // --- what happened: records, newest first; waits are the server's long-poll with `count` -------
  async records(kind, filters, key = kind) {
    return (await this.client.request("GET", `/_mock/${kind}`, { query: this.scope(filters) }))[key];
  }

  async waitFor(list, what, { count = 1, timeout = 10, ...filters } = {}) {
    const deadline = Date.now() + timeout * 1000;
    const limit = Math.max(count, filters.limit ?? 100);
    for (;;) {
      const remaining = Math.max(0, deadline - Date.now()) / 1000;
      const wait = Math.min(remaining, MAX_WAIT_SECONDS).toFixed(3);
      const found = await list({ ...filters, limit, count, wait });
      if (found.length >= count) return found;
      if (Date.now() >= deadline) {
        throw new MesiboMockError(`expected ${count} ${what} matching ${JSON.stringify(filters)}, found ${found.length}`);
      }
    }
  }

  pushes(filters = {}) {
    return this.records("pushes", filters);
  }

  waitForPushes(options = {}) {
    return this.waitFor((f) => this.pushes(f), "push(es)", options);
  }

  push(id) {
    return this.client.request("GET", `/_mock/pushes/${id}`);
  }

  /** Mark a push as received by the phone: an acknowledged push needs no fallback. */
  ack(id) {
    return this.client.request("POST", `/_mock/pushes/${id}/ack`, { json: {} });
  }

  clearPushes(options = {}) {
    return this.client.request("DELETE", "/_mock/pushes", { query: this.scope(options) });
  }

  messages(filters = {}) {
    return this.records("messages", filters);
  }

  waitForMessages(options = {}) {
    return this.waitFor((f) => this.messages(f), "message(s)", options);
  }

  message(mid) {
    return this.client.request("GET", `/_mock/messages/${mid}`);
  }

  /** A message's life on the emulator clock, as the dashboard draws it (`#messages/{mid}`). */
  timeline(mid) {
    return this.client.request("GET", `/_mock/messages/${mid}/timeline`);
  }

  /** The events sent to the app's webhook (user, message, push), newest first. */
  events(filters = {}) {
    return this.records("events", filters);
  }

  waitForEvents(options = {}) {
    return this.waitFor((f) => this.events(f), "event(s)", options);
  }

  /** Each POST to the app's webhook (one per request or timer round), newest first, with its state. */
  deliveries(filters = {}) {
    return this.records("deliveries", filters);
  }

  waitForDeliveries(options = {}) {
    return this.waitFor((f) => this.deliveries(f), "webhook deliveries", options);
  }

  /** Every attempt to POST to the app's webhook, newest first, with what went wrong. */
  webhookAttempts(filters = {}) {
    return this.records("webhooks", filters, "deliveries");
  }

  waitForWebhookAttempts(options = {}) {
    return this.waitFor((f) => this.webhookAttempts(f), "webhook attempt(s)", options);
  }

  // --- the request journal and strict mode -----------------------------------------------------------
  /** The request journal: every backend call with what was read, the answer and the diagnosis. */
  requests(filters = {}) {
    return this.records("requests", filters);
  }

  waitForRequests(options = {}) {
    return this.waitFor((f) => this.requests(f), "backend call(s)", options);
  }

  /** One journal entry, whole. */
  request(id) {
    return this.client.request("GET", `/_mock/requests/${id}`);
  }

  clearRequests(options = {}) {
    return this.client.request("DELETE", "/_mock/requests", { query: this.scope(options) });
  }

  /** The newest journal id: pass it as `after` to look only at what comes next. */
  async lastRequestId(options = {}) {
    const [newest] = await this.requests({ ...options, limit: 1 });
    return newest ? newest.id : 0;
  }

  /** Strict mode's findings: unknown ops, fields no op reads, webhook deliveries not answered MESIBO
   * OK, each with its text. What a test reads here is expected: close() fails only for later ones. */
  async mistakes(options = {}) {
    const answer = await this.client.request("GET", "/_mock/mistakes", { query: this.scope(options) });
    this.mistakesSeen = answer.seen;
    return answer.mistakes;
  }

  async mistakesReport(options = {}) {
    return (await this.client.request("GET", "/_mock/mistakes", { query: this.scope(options) })).report;
  }

  /** What strict mode fails a test for: the mistakes the test has not read with mistakes(); null if none. */
  async unexpectedMistakes(options = {}) {
    const query = this.scope({ ...options, seen: this.mistakesSeen ?? undefined });
    return (await this.client.request("GET", "/_mock/mistakes", { query })).report;
  }

  /** What a failed test's report shows: each backend call (after `after`), its answer and diagnosis,
   * then strict mode's findings. */
  report(options = {}) {
    return this.client.request("GET", "/_mock/report", { query: this.scope(options), text: true });
  }

  // --- steering ------------------------------------------------------------------------------------
  /** Make this app's next pushes fail as FCM or APNs would (Unregistered, BadDeviceToken, UNREGISTERED...). */
  injectFault(error, { address, pushToken, count, allApps } = {}) {
    const body = { error, token: allApps ? undefined : this.token, address, push_token: pushToken };
    if (count !== undefined) body.count = count;
    return this.client.request("POST", "/_mock/faults", { json: dropUndefined(body) });
  }

  async faults(options = {}) {
    return (await this.client.request("GET", "/_mock/faults", { query: this.scope(options) })).faults;
  }

  async removeFault(id) {
    await this.client.request("DELETE", `/_mock/faults/${id}`);
  }

  clearFaults(options = {}) {
    return this.client.request("DELETE", "/_mock/faults", { query: this.scope(options) });
  }

  /** Make this app's next backend calls answer with a row of Mesibo's error table, a bare HTTP status or a delay. */
  backendFault(error, { op, http: status, delay, count = 1, allApps } = {}) {
    const body = dropUndefined({ error: error ?? undefined, op, token: allApps ? undefined : this.token, http: status, delay });
    body.count = count;
    return this.client.request("POST", "/_mock/backend-faults", { json: body });
  }

  async backendFaults(options = {}) {
    return (await this.client.request("GET", "/_mock/backend-faults", { query: this.scope(options) })).faults;
  }

  async removeBackendFault(id) {
    await this.client.request("DELETE", `/_mock/backend-faults/${id}`);
  }

  clearBackendFaults(options = {}) {
    return this.client.request("DELETE", "/_mock/backend-faults", { query: this.scope(options) });
  }

  setWebhook(url, { secret, events } = {}) {
    return this.client.request("PUT", this.appPath("/webhook"), { json: dropUndefined({ url, secret, events }) });
  }

  /** The app sends no more events (deliveries still pending are cancelled). */
  async removeWebhook() {
    await this.client.request("DELETE", this.appPath("/webhook"));
  }

  /** A local receiver that answers MESIBO OK and records what it gets, set as this app's webhook. */
  async webhookReceiver({ events } = {}) {
    const receiver = await WebhookReceiver.start();
    this.receivers.push(receiver);
    await this.setWebhook(receiver.url, { events });
    return receiver;
  }

  // The clock belongs to the server: every app of it sees the same time.
  clock() {
    return this.client.request("GET", "/_mock/clock");
  }

  advance(seconds) {
    return this.client.request("POST", "/_mock/clock", { json: { advance: seconds } });
  }

  setClock(iso) {
    return this.client.request("POST", "/_mock/clock", { json: { set: iso } });
  }

  freeze(frozen = true) {
    return this.client.request("POST", "/_mock/clock", { json: { freeze: frozen } });
  }

  realTime() {
    return this.client.request("POST", "/_mock/clock", { json: { real: true } });
  }

  health() {
    return this.client.request("GET", "/_mock/health");
  }

  async samples() {
    return (await this.client.request("GET", "/_mock/samples")).samples;
  }

  /** A sample credential file's bytes (fcm.json, apn-universal.p12, ...), as the server makes it. */
  sample(name) {
    return this.client.request("GET", `/_mock/samples/${encodeURIComponent(name)}`, { raw: true });
  }

  async closeReceivers() {
    const receivers = this.receivers.splice(0);
    await Promise.all(receivers.map((r) => r.close()));
  }
}

/** An app of a test's own: its token, its backend URL, and every helper scoped to it. */
class MesiboApp extends Helpers {
  constructor(client, view, strict) {
    super(client, view.token);
    this.view = view;
    this.strict = strict;
    this.closed = false;
  }

  get name() {
    return this.view.name;
  }

  /** Delete the app; with strict mode, then throw naming each mistake the test did not read. */
  async close() {
    if (this.closed) return;
    this.closed = true;
    const report = this.strict ? await this.unexpectedMistakes() : null;
    await this.closeReceivers();
    await this.client.request("DELETE", this.appPath()).catch((error) => {
      if (error.status !== 404) throw error; // gone already (a server-wide reset)
    });
    if (report) throw new MesiboMockError(report);
  }
}

function randomHex(bytes) {
  return randomBytes(bytes).toString("hex");
}

function dropUndefined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== null));
}

module.exports = { Client, Helpers, MesiboApp };
