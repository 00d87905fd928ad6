"use strict";
// mesibo-mock for Node: start or connect to the emulator, an app per test, and the helpers of the Python
// MesiboMock in camelCase. No dependency: Node 18+ (global fetch, FormData, Blob).
//
// The rules live in the server: strict mode is GET /_mock/mistakes, waiting is the server's long-poll
// with `count`, sample credentials come from /_mock/samples. This is a thin layer over HTTP plus the two
// things only a client can do: start a server process, and run a local webhook receiver.

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");

const DEFAULT_APP_TOKEN = "mesibo-mock-test-token";
const READY_PREFIX = "mesibo-mock ready ";
const MAX_WAIT_SECONDS = 60; // the server's longest long-poll; a longer timeout is several

class MesiboMockError extends Error {
  constructor(message, { status, body } = {}) {
    super(message);
    this.name = "MesiboMockError";
    this.status = status;
    this.body = body;
  }
}

// ---------------------------------------------------------------------------------------------------
// HTTP
class Client {
  constructor(url, adminToken) {
    this.url = url.replace(/\/+$/, "").replace(/\/backend$/, "");
    this.headers = adminToken ? { authorization: `Bearer ${adminToken}` } : {};
  }

  async request(method, route, { query, json, body, raw = false } = {}) {
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
      const text = await response.text();
      throw new MesiboMockError(`${method} ${route} -> ${response.status}: ${text}`, { status: response.status, body: text });
    }
    if (raw) return Buffer.from(await response.arrayBuffer());
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }
}

// Python keyword names in camelCase -> the server's query names.
const QUERY_NAMES = { pushToken: "push_token", from_: "from" };

function queryOf(filters) {
  const query = {};
  for (const [key, value] of Object.entries(filters ?? {})) {
    if (value === undefined || value === null) continue;
    query[QUERY_NAMES[key] ?? key] = value;
  }
  return query;
}

// ---------------------------------------------------------------------------------------------------
// The helpers, acting on one app (its token): MesiboMock's for the server's default app, MesiboApp's for
// an app of a test's own.
class Helpers {
  constructor(client, token) {
    this.client = client;
    this.token = token;
    this.receivers = [];
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

  // --- devices, users, groups --------------------------------------------------------------------
  /** Stand in for Mesibo's SDK on a phone. iOS tokens default to 64 hex digits, as APNs issues them. */
  registerDevice(address, { platform = "android", appid = "com.example.app", pushToken, voip, sandbox, responds } = {}) {
    const token = pushToken ?? (platform === "ios" ? randomHex(32) : "fcm-" + randomHex(12));
    const body = { address: String(address), platform, appid, push_token: token };
    if (voip !== undefined) body.voip = voip;
    if (sandbox !== undefined) body.sandbox = sandbox;
    if (responds !== undefined) body.responds = responds;
    return this.client.request("POST", `/_mock/apps/${this.token}/devices`, { json: body });
  }

  async devices(address) {
    return (await this.client.request("GET", `/_mock/apps/${this.token}/devices`, { query: { address } })).devices;
  }

  /** Mark a user online (messages reach it without a push) or offline. */
  setOnline(address, online = true) {
    return this.client.request("PUT", `/_mock/apps/${this.token}/users/${encodeURIComponent(address)}/online`, {
      json: { online },
    });
  }

  async users() {
    return (await this.client.request("GET", `/_mock/apps/${this.token}/users`)).users;
  }

  async groups() {
    return (await this.client.request("GET", `/_mock/apps/${this.token}/groups`)).groups;
  }

  app() {
    return this.client.request("GET", `/_mock/apps/${this.token}`);
  }

  // --- what happened: records, newest first; waits are the server's long-poll with `count` -------
  async pushes(filters = {}) {
    return this.records("pushes", filters);
  }

  waitForPushes(options = {}) {
    return this.waitFor("pushes", "push(es)", options);
  }

  push(id) {
    return this.client.request("GET", `/_mock/pushes/${id}`);
  }

  ack(id) {
    return this.client.request("POST", `/_mock/pushes/${id}/ack`, { json: {} });
  }

  clearPushes() {
    return this.client.request("DELETE", "/_mock/pushes", { query: { token: this.token } });
  }

  async messages(filters = {}) {
    return this.records("messages", filters);
  }

  waitForMessages(options = {}) {
    return this.waitFor("messages", "message(s)", options);
  }

  message(mid) {
    return this.client.request("GET", `/_mock/messages/${mid}`);
  }

  /** The events sent to the app's webhook (user, message, push), newest first. */
  async events(filters = {}) {
    return this.records("events", filters);
  }

  waitForEvents(options = {}) {
    return this.waitFor("events", "event(s)", options);
  }

  /** The request journal: every backend call with what was read, the answer and the diagnosis. */
  async requests(filters = {}) {
    return this.records("requests", filters);
  }

  waitForRequests(options = {}) {
    return this.waitFor("requests", "backend call(s)", options);
  }

  /** Strict mode's findings (GET /_mock/mistakes): unknown ops and fields no op reads, each with its text. */
  async mistakes({ after } = {}) {
    return (await this.client.request("GET", "/_mock/mistakes", { query: { token: this.token, after } })).mistakes;
  }

  async mistakesReport({ after } = {}) {
    return (await this.client.request("GET", "/_mock/mistakes", { query: { token: this.token, after } })).report;
  }

  async records(kind, filters) {
    const query = queryOf({ token: this.token, ...filters });
    return (await this.client.request("GET", `/_mock/${kind}`, { query }))[kind];
  }

  async waitFor(kind, what, { count = 1, timeout = 10, ...filters } = {}) {
    const deadline = Date.now() + timeout * 1000;
    const limit = Math.max(count, filters.limit ?? 100);
    for (;;) {
      const remaining = Math.max(0, deadline - Date.now()) / 1000;
      const wait = Math.min(remaining, MAX_WAIT_SECONDS).toFixed(3);
      const found = await this.records(kind, { ...filters, limit, count, wait });
      if (found.length >= count) return found;
      if (Date.now() >= deadline) {
        throw new MesiboMockError(`expected ${count} ${what} matching ${JSON.stringify(filters)}, found ${found.length}`);
      }
    }
  }

  // --- steering ------------------------------------------------------------------------------------
  /** Make the next pushes fail as FCM or APNs would (Unregistered, BadDeviceToken, UNREGISTERED...). */
  injectFault(error, { address, pushToken, count } = {}) {
    const body = { error, token: this.token, address, push_token: pushToken };
    if (count !== undefined) body.count = count;
    return this.client.request("POST", "/_mock/faults", { json: dropUndefined(body) });
  }

  clearFaults() {
    return this.client.request("DELETE", "/_mock/faults");
  }

  /** Make the next backend calls answer with a row of Mesibo's error table, a bare HTTP status or a delay. */
  backendFault(error, { op, http: status, delay, count = 1 } = {}) {
    const body = dropUndefined({ error: error ?? undefined, op, token: this.token, http: status, delay });
    body.count = count;
    return this.client.request("POST", "/_mock/backend-faults", { json: body });
  }

  clearBackendFaults() {
    return this.client.request("DELETE", "/_mock/backend-faults");
  }

  setWebhook(url, { secret, events } = {}) {
    return this.client.request("PUT", `/_mock/apps/${this.token}/webhook`, { json: dropUndefined({ url, secret, events }) });
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

  /** Strictness first (it throws, with the pytest plugin's text, after the app is deleted), then delete. */
  async close() {
    if (this.closed) return;
    this.closed = true;
    const report = this.strict ? await this.mistakesReport() : null;
    await this.closeReceivers();
    await this.client.request("DELETE", `/_mock/apps/${this.token}`);
    if (report) throw new MesiboMockError(report);
  }
}

/** A running emulator: started by this process, or connected to. Its helpers act on the server's app
 * `default` (or the `appToken` given); `createApp()` gives a test an app of its own. */
class MesiboMock extends Helpers {
  constructor(client, token, child) {
    super(client, token);
    this.child = child;
    this.apps = [];
  }

  /**
   * Run a server: the one at MESIBO_MOCK_URL if set (then it only connects), else MESIBO_MOCK_BIN, else
   * `mesibo-mock` on PATH, else `python3 -m mesibo_mock`. Each call starts its own (about 0.3 s), so test
   * files that run at once and move the clock do not share one.
   */
  static async start({ mode, seed, env = {}, port = 0, appToken = DEFAULT_APP_TOKEN, logLevel = "warning", startupTimeout = 20 } = {}) {
    if (process.env.MESIBO_MOCK_URL) {
      return MesiboMock.connect({ url: process.env.MESIBO_MOCK_URL, adminToken: process.env.MESIBO_MOCK_ADMIN_TOKEN });
    }
    const settings = {};
    for (const [key, value] of Object.entries(env)) {
      settings[key.startsWith("MESIBO_MOCK_") ? key : `MESIBO_MOCK_${key.toUpperCase()}`] = String(value);
    }
    if (mode) settings.MESIBO_MOCK_MODE = mode;
    if (seed) settings.MESIBO_MOCK_SEED = path.resolve(seed);
    if (appToken) settings.MESIBO_MOCK_APP_TOKEN = appToken;
    const command = serveCommand();
    const args = [...command.slice(1), "serve", "--port", String(port), "--db", ":memory:", "--log-level", logLevel];
    const child = spawn(command[0], args, { env: { ...process.env, ...settings }, stdio: ["ignore", "pipe", "pipe"] });
    const ready = await readyLine(child, command, startupTimeout);
    const client = new Client(ready.url, settings.MESIBO_MOCK_ADMIN_TOKEN);
    const mock = new MesiboMock(client, ready.app_token, child);
    const stopOnExit = () => child.kill("SIGTERM");
    process.once("exit", stopOnExit);
    mock.forgetExit = () => process.removeListener("exit", stopOnExit);
    return mock;
  }

  /** Attach to a running server (a compose service, an image). Without appToken, its app `default`. */
  static async connect({ url = process.env.MESIBO_MOCK_URL, adminToken, appToken } = {}) {
    if (!url) throw new MesiboMockError("connect() needs {url} (or MESIBO_MOCK_URL)");
    const client = new Client(url, adminToken);
    await client.request("GET", "/_mock/health");
    let token = appToken;
    if (!token) {
      const { apps } = await client.request("GET", "/_mock/apps");
      const found = apps.find((a) => a.name === "default") ?? apps[0];
      if (!found) throw new MesiboMockError(`the server at ${client.url} has no app; give {appToken}`);
      token = found.token;
    }
    return new MesiboMock(client, token, null);
  }

  /**
   * An app of the test's own, so that it leaves the server's other apps alone. `credentials: "sample"`
   * gives it the sample FCM and APN credentials (or name samples: {fcm, apn}); with `strict`, close()
   * throws for an op that does not exist or a field no op reads.
   */
  async createApp({ name = "test", token, credentials, strict = false } = {}) {
    const body = { name, ...(token ? { token } : {}) };
    if (credentials) body.credentials = credentials === "sample" ? { fcm: "sample", apn: "sample" } : credentials;
    const view = await this.client.request("POST", "/_mock/apps", { json: body });
    const app = new MesiboApp(this.client, view, strict);
    this.apps.push(app);
    return app;
  }

  async listApps() {
    return (await this.client.request("GET", "/_mock/apps")).apps;
  }

  /** Wipe the server (every app, record and fault): only for a server your tests own. */
  reset() {
    return this.client.request("POST", "/_mock/reset", { json: {} });
  }

  /** Close the receivers and apps still open, then end the server if this process started it. */
  async stop() {
    for (const app of this.apps.splice(0)) {
      if (!app.closed) {
        app.strict = false;
        await app.close().catch(() => {});
      }
    }
    await this.closeReceivers();
    if (this.child) {
      const child = this.child;
      this.child = null;
      this.forgetExit?.();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
        await exited;
        clearTimeout(timer);
      }
    }
  }
}

function serveCommand() {
  if (process.env.MESIBO_MOCK_BIN) return process.env.MESIBO_MOCK_BIN.split(/\s+/).filter(Boolean);
  for (const folder of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(folder, "mesibo-mock");
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return [candidate];
    } catch {
      // not here
    }
  }
  return ["python3", "-m", "mesibo_mock"];
}

/** The server's first stdout line: `mesibo-mock ready {json}`. */
function readyLine(child, command, timeoutSeconds) {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const fail = (why) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new MesiboMockError(`mesibo-mock (${command.join(" ")}) ${why}${err.trim() ? `: ${err.trim().slice(-2000)}` : ""}`));
    };
    const timer = setTimeout(() => fail(`was not ready within ${timeoutSeconds} s`), timeoutSeconds * 1000);
    child.stderr.on("data", (chunk) => {
      err += chunk;
    });
    child.on("error", (error) => fail(`could not start (${error.code ?? error.message}); set MESIBO_MOCK_BIN or install mesibo-mock`));
    child.on("exit", (code) => fail(`exited with status ${code}`));
    child.stdout.on("data", function onData(chunk) {
      out += chunk;
      const end = out.indexOf("\n");
      if (end < 0) return;
      const line = out.slice(0, end);
      child.stdout.removeListener("data", onData);
      child.stdout.resume(); // nothing else comes; never let the pipe fill
      child.removeAllListeners("exit");
      clearTimeout(timer);
      if (!line.startsWith(READY_PREFIX)) return fail(`printed ${JSON.stringify(line)} instead of its ready line`);
      child.stdout.unref?.();
      child.stderr.unref?.();
      child.unref();
      resolve(JSON.parse(line.slice(READY_PREFIX.length)));
    });
  });
}

// ---------------------------------------------------------------------------------------------------
/** A local HTTP receiver that answers `MESIBO OK`, as Mesibo wants, and records every POST. */
class WebhookReceiver {
  constructor(server, url) {
    this.server = server;
    this.url = url;
    this.posts = [];
    this.waiters = new Set();
  }

  static start() {
    return new Promise((resolve, reject) => {
      let receiver;
      const server = http.createServer((request, response) => {
        const chunks = [];
        request.on("data", (chunk) => chunks.push(chunk));
        request.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          let body;
          try {
            body = JSON.parse(raw);
          } catch {
            body = { unreadable: raw.slice(0, 200) };
          }
          receiver.posts.push(body);
          for (const wake of receiver.waiters) wake();
          response.writeHead(200, { "content-type": "text/plain", "content-length": 9 });
          response.end("MESIBO OK");
        });
      });
      server.on("error", reject);
      server.listen(0, "127.0.0.1", () => {
        receiver = new WebhookReceiver(server, `http://127.0.0.1:${server.address().port}/mesibo-webhook`);
        server.unref();
        resolve(receiver);
      });
    });
  }

  /** Every event received, oldest first; `type`: only user, message or push events. */
  events(type) {
    const found = this.posts.flatMap((post) => post.events ?? []);
    return type ? found.filter((event) => event.type === type) : found;
  }

  /** Resolves once at least `count` matching events have arrived (oldest first). */
  waitForEvents({ count = 1, type, timeout = 10 } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events(type);
        if (found.length < count) return false;
        done();
        resolve(found);
        return true;
      };
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const timer = setTimeout(() => {
        done();
        reject(new MesiboMockError(`the webhook received ${this.events(type).length} ${type ?? ""} event(s), expected ${count}`));
      }, timeout * 1000);
      this.waiters.add(check);
      check();
    });
  }

  clear() {
    this.posts.length = 0;
  }

  close() {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }
}

function randomHex(bytes) {
  return require("node:crypto").randomBytes(bytes).toString("hex");
}

function dropUndefined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== null));
}

module.exports = { MesiboMock, MesiboApp, WebhookReceiver, MesiboMockError, DEFAULT_APP_TOKEN };
