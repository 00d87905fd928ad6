"use strict";
// mesibo-mock for Node: start or connect to the emulator, an app per test, and the helpers every client
// of mesibo-mock shares (helpers.cjs). No dependency: Node 18+ (global fetch, FormData, Blob).
//
// This is a thin layer over HTTP plus what only a client can do: find and start a server process, and
// run a local webhook receiver.

const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { MesiboMockError } = require("./errors.cjs");
const { Client, Helpers, MesiboApp } = require("./helpers.cjs");
const { WebhookReceiver } = require("./receiver.cjs");

const DEFAULT_APP_TOKEN = "mesibo-mock-test-token";
const READY_PREFIX = "mesibo-mock ready ";
// the README's install, run where the tests run (a clone's folder now; `mesibo-mock` once published)
const INSTALL = "python3 -m venv .venv && .venv/bin/pip install <mesibo-mock's folder>";

/** A running emulator: started by this process, or connected to. Its helpers act on the server's app
 * `default` (or the `appToken` given); `createApp()` gives a test an app of its own. */
class MesiboMock extends Helpers {
  constructor(client, token, child) {
    super(client, token);
    this.child = child;
    this.madeApps = [];
    this.output = ""; // what the server printed after its ready line, the last 64 KiB
    const keep = (chunk) => {
      this.output = (this.output + chunk).slice(-65536);
    };
    child?.stdout?.on("data", keep);
    child?.stderr?.on("data", keep);
  }

  /** What the server this process started has logged (the last 64 KiB). */
  logs() {
    return this.output;
  }

  /**
   * Run a server: the one at MESIBO_MOCK_URL if set (then it only connects), else MESIBO_MOCK_BIN, else
   * `mesibo-mock` on PATH, else `.venv/bin/mesibo-mock` here or in a parent folder, else `python3 -m
   * mesibo_mock`. Each call starts its own, so test files that run at once and move the clock do not
   * share one; it ends with this process, however that ends (`serve --parent-pid`).
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
    const found = findServer();
    const args = [
      ...found.command.slice(1),
      "serve",
      "--port",
      String(port),
      "--db",
      ":memory:",
      "--log-level",
      logLevel,
      "--parent-pid",
      String(process.pid),
    ];
    const child = spawn(found.command[0], args, { env: { ...process.env, ...settings }, stdio: ["ignore", "pipe", "pipe"] });
    const fetchLoaded = loadFetch();
    const ready = await readyLine(child, found, startupTimeout);
    await fetchLoaded;
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
      for (const query of [{ name: "default", limit: 1 }, { limit: 1 }]) {
        const [found] = (await client.request("GET", "/_mock/apps", { query })).apps;
        if (found) {
          token = found.token;
          break;
        }
      }
      if (!token) throw new MesiboMockError(`the server at ${client.url} has no app; give {appToken}`);
    }
    return new MesiboMock(client, token, null);
  }

  /**
   * An app of the test's own, so that it leaves the server's other apps alone; the server names it when
   * no name is given. `credentials: "sample"` gives it the sample FCM and APN credentials (or name
   * samples: {fcm, apn}); with `strict`, close() throws for the mistakes its calls made.
   */
  async createApp({ name, token, credentials, strict = false } = {}) {
    const body = {};
    if (name) body.name = String(name).slice(0, 200);
    if (token) body.token = token;
    if (credentials) body.credentials = credentials === "sample" ? { fcm: "sample", apn: "sample" } : credentials;
    const view = await this.client.request("POST", "/_mock/apps", { json: body });
    const app = new MesiboApp(this.client, view, strict);
    this.madeApps.push(app);
    return app;
  }

  /** The server's apps, oldest first (of this `name`, when given); at most 1,000. */
  async apps({ name } = {}) {
    return (await this.client.request("GET", "/_mock/apps", { query: { limit: 1000, name } })).apps;
  }

  async deleteApp(token) {
    await this.client.request("DELETE", `/_mock/apps/${encodeURIComponent(token)}`);
  }

  /** Wipe the server (every app, record and fault): only for a server your tests own. */
  reset() {
    return this.client.request("POST", "/_mock/reset", { json: {} });
  }

  /** Close the receivers and apps still open, then end the server if this process started it. */
  async stop() {
    for (const app of this.madeApps.splice(0)) {
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

/**
 * The command that runs the server, and every place looked at on the way (for the error when none
 * works): MESIBO_MOCK_BIN, `mesibo-mock` on PATH, `.venv/bin/mesibo-mock` in the working folder and
 * its parents (the README's install), then `python3 -m mesibo_mock`.
 */
function findServer(cwd = process.cwd()) {
  const tried = [];
  if (process.env.MESIBO_MOCK_BIN) {
    return { command: process.env.MESIBO_MOCK_BIN.split(/\s+/).filter(Boolean), tried: ["MESIBO_MOCK_BIN"] };
  }
  tried.push("MESIBO_MOCK_BIN (not set)");
  for (const folder of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(folder, "mesibo-mock");
    if (runnable(candidate)) return { command: [candidate], tried };
  }
  tried.push("mesibo-mock on PATH (not found)");
  for (let folder = path.resolve(cwd); ; folder = path.dirname(folder)) {
    const candidate = path.join(folder, ".venv", "bin", "mesibo-mock");
    if (runnable(candidate)) return { command: [candidate], tried };
    if (path.dirname(folder) === folder) break;
  }
  tried.push(`.venv/bin/mesibo-mock in ${path.resolve(cwd)} and its parents (not found)`);
  return { command: ["python3", "-m", "mesibo_mock"], tried };
}

function runnable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Node loads its fetch, and compiles its HTTP parser, on the first call: about 40 ms of a first
 * createApp (measured). One call to a throw-away local server does it while the server starts, when
 * this process would only wait; a failure only leaves that cost where it was.
 */
async function loadFetch() {
  const local = http.createServer((_request, response) => response.end());
  try {
    await new Promise((resolve, reject) => local.once("error", reject).listen(0, "127.0.0.1", resolve));
    const answer = await fetch(`http://127.0.0.1:${local.address().port}/`);
    await answer.arrayBuffer();
  } catch {
    // nothing to do: the first real call loads it
  } finally {
    local.closeAllConnections?.();
    local.close();
  }
}

/** The server's first stdout line: `mesibo-mock ready {json}`. */
function readyLine(child, found, timeoutSeconds) {
  const { command, tried } = found;
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const fail = (why) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      const said = err.trim() ? `: ${err.trim().slice(-2000)}` : "";
      const places = [...tried, `${command.join(" ")} (${why}${said})`].map((p) => `\n  - ${p}`).join("");
      reject(
        new MesiboMockError(
          `mesibo-mock could not be started. Tried:${places}\n` +
            `Install it with the README's command (${INSTALL}), or set MESIBO_MOCK_BIN to its mesibo-mock ` +
            "(or MESIBO_MOCK_URL to a running server).",
        ),
      );
    };
    const timer = setTimeout(() => fail(`was not ready within ${timeoutSeconds} s`), timeoutSeconds * 1000);
    const onErr = (chunk) => {
      err = (err + chunk).slice(-65536);
    };
    child.stderr.on("data", onErr);
    child.on("error", (error) => fail(`could not start: ${error.code ?? error.message}`));
    child.on("exit", (code) => fail(`exited with status ${code}`));
    child.stdout.on("data", function onData(chunk) {
      out += chunk;
      const end = out.indexOf("\n");
      if (end < 0) return;
      const line = out.slice(0, end);
      child.stdout.removeListener("data", onData);
      child.stderr.removeListener("data", onErr);
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

module.exports = { MesiboMock, MesiboApp, WebhookReceiver, MesiboMockError, DEFAULT_APP_TOKEN, findServer };
