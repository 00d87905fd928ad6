// SPEC 9.1 in Node, against a real server: helpers scoped to their app, the routes every client wraps,
// strict mode's webhook finding and expected findings, finding the server, and a server that never
// outlives its test process.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

import { MesiboMock, MesiboMockError, WebhookReceiver } from "mesibo-mock";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const INDEX = path.join(HERE, "..", "src", "index.cjs");
const require = createRequire(import.meta.url);

let mock;
before(async () => {
  mock = await MesiboMock.start();
});
after(async () => {
  await mock.stop();
});

/** The command that runs the server here, as a path (CI sets MESIBO_MOCK_BIN; else it is on PATH). */
function serverBinary() {
  const { findServer } = require(INDEX);
  return findServer().command[0];
}

function answering(status, body) {
  return new Promise((resolve) => {
    const server = http.createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        response.writeHead(status, { "content-type": "text/plain" });
        response.end(body);
      });
    });
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/hook` }));
  });
}

test("the mock's helpers act on its own app; {allApps: true} reads every app", async () => {
  const app = await mock.createApp({ credentials: "sample" });
  await app.registerDevice("ann");
  await app.backend("pushtest", { push: { address: "ann" } });
  const [mine] = await app.waitForPushes(); // no count: one is enough
  assert.equal(mine.app, app.token);
  assert.deepEqual(await mock.pushes(), []);
  assert.deepEqual((await mock.pushes({ allApps: true })).map((p) => p.app), [app.token]);
  await mock.registerDevice("ann");
  await mock.backend("pushtest", { push: { address: "ann" } });
  await mock.waitForPushes();
  await app.clearPushes();
  assert.deepEqual(await app.pushes(), []);
  assert.equal((await mock.pushes()).length, 1);
  await app.close();
});

test("faults set through an app are its own: listed, removed, cleared, and last their count", async () => {
  const app = await mock.createApp({ credentials: "sample" });
  await app.registerDevice("ann");
  const fault = await app.injectFault("UNREGISTERED", { count: 2 });
  assert.deepEqual((await app.faults()).map((f) => f.id), [fault.id]);
  assert.deepEqual(await mock.faults(), []);
  for (let i = 0; i < 3; i++) await app.backend("pushtest", { push: { address: "ann" } });
  const pushes = await app.waitForPushes({ count: 3 });
  assert.deepEqual(pushes.map((p) => p.injected).reverse(), [true, true, false]); // its count, then no more
  const held = await app.backendFault("QUOTAEXCEEDED", { op: "usersget", count: null });
  assert.equal((await mock.backend("usersget")).result, true);
  assert.equal((await app.backend("usersget")).error, "QUOTAEXCEEDED");
  assert.deepEqual((await app.backendFaults()).map((f) => f.id), [held.id]);
  await app.removeBackendFault(held.id);
  assert.equal((await app.backend("usersget")).result, true);
  await mock.backendFault("QUOTAEXCEEDED", { count: null });
  await app.backendFault("QUOTAEXCEEDED", { count: null });
  await app.clearBackendFaults();
  assert.deepEqual(await app.backendFaults(), []);
  assert.equal((await mock.backendFaults()).length, 1);
  await mock.clearBackendFaults();
  const other = await app.injectFault("UNREGISTERED", { count: null });
  await app.removeFault(other.id);
  assert.deepEqual(await app.faults(), []);
  await app.close();
});

test("a wait is the server's long-poll: a few requests, with or without a count, not a spin", async () => {
  const own = await MesiboMock.start({ logLevel: "info" }); // its access log counts the requests
  try {
    const app = await own.createApp({ credentials: "sample" });
    await app.backend("pushset", { push: { ratelimit: false } });
    await app.registerDevice("ann");
    await app.backend("pushtest", { push: { address: "ann" } });
    const polls = () => own.logs().split("GET /_mock/pushes?").length - 1;
    const before = polls();
    setTimeout(() => app.backend("pushtest", { push: { address: "ann" } }), 300);
    setTimeout(() => app.backend("pushtest", { push: { address: "ann" } }), 600);
    assert.equal((await app.waitForPushes({ count: 3 })).length, 3); // one there: waits for two more
    const waiting = app.waitForPushes({ address: "nobody-yet", timeout: 5 }); // no count: one
    setTimeout(() => app.registerDevice("nobody-yet").then(() => app.backend("pushtest", { push: { address: "nobody-yet" } })), 300);
    assert.equal((await waiting).length, 1);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the access log line follows the answer
    const made = polls() - before;
    assert.ok(made >= 2 && made <= 4, `the two waits made ${made} requests`);
  } finally {
    await own.stop();
  }
});

test("apps(), an app made without a name, and connect() to a backend URL", async () => {
  const app = await mock.createApp();
  assert.match(app.name, /^app-\d+$/);
  const names = (await mock.apps()).map((a) => a.name);
  assert.ok(names.includes("default") && names.includes(app.name));
  assert.equal(typeof mock.listApps, "undefined"); // one name in every language
  const attached = await MesiboMock.connect({ url: mock.backendUrl }); // the URL a backend is given
  assert.equal(attached.url, mock.url);
  assert.equal(attached.appToken, mock.appToken);
  await attached.stop();
  await app.close();
});

test("the routes every client wraps: timeline, request, journal, OTPs, UACs, disabling, webhook, device", async () => {
  const app = await mock.createApp({ credentials: "sample" });
  for (const address of ["ann", "bob"]) await app.backend("useradd", { user: { address } });
  await app.registerDevice("ann");
  const mid = await app.sendMessage("bob", "ann", "hi");
  await app.waitForPushes();
  const kinds = new Set((await app.timeline(mid)).items.map((item) => item.kind));
  assert.ok(kinds.has("call") && kinds.has("push"));
  const [entry] = await app.requests({ op: "message" });
  assert.equal((await app.request(entry.id)).fields.message.message, "hi");
  assert.equal(await app.lastRequestId(), entry.id);
  assert.equal((await app.clearRequests()).deleted, 3);
  assert.deepEqual(await app.requests(), []);
  await app.backend("otp", { otp: { address: "ann" } });
  const [code] = await app.otps("ann");
  assert.equal(code.otp.length, 6);
  const { uac } = await app.backend("uacset", { uac: { name: "admin" } });
  assert.equal((await app.uac(uac.id)).name, "admin");
  await app.setDisabled(true);
  assert.equal((await app.backend("usersget")).error, "TOKENBREACH");
  await app.setDisabled(false);
  assert.equal((await app.backend("usersget")).result, true);
  const [device] = await app.devices("ann");
  await app.removeDevice(device.id);
  assert.deepEqual(await app.devices(), []);
  const hook = await app.webhookReceiver();
  await app.setOnline("ann", true);
  const [delivery] = await app.waitForDeliveries();
  assert.ok(["pending", "delivered"].includes(delivery.state));
  const [attempt] = await app.waitForWebhookAttempts();
  assert.equal(attempt.ok, true);
  await hook.waitForEvents();
  await app.removeWebhook();
  assert.equal((await app.app()).webhook, null);
  const reset = await app.resetApp();
  assert.ok(reset.cleared > 0);
  assert.deepEqual(await app.users(), []);
  assert.ok((await app.app()).credentials.fcm); // kept
  await app.close();
});

test("the report is the server's: each call with its answer and diagnosis", async () => {
  const app = await mock.createApp();
  await app.backend("useradd", { user: { address: "ann", nmae: "Ann" } });
  const report = await app.report();
  assert.match(report, /op=useradd \(json\) -> ok/);
  assert.match(report, /'user\.nmae'/);
  await app.close();
});

test("a webhook handler that forgets MESIBO OK is a strict finding; a read finding is expected", async () => {
  const { server, url } = await answering(200, "ok");
  try {
    const app = await mock.createApp({ strict: true });
    await app.setWebhook(url);
    await app.setOnline("ann", true);
    await app.waitForWebhookAttempts();
    await assert.rejects(app.close(), (error) => {
      assert.ok(error instanceof MesiboMockError);
      assert.match(error.message, /webhook delivery #1 attempt 1: the webhook handler/);
      assert.match(error.message, /MESIBO OK/);
      return true;
    });
  } finally {
    server.close();
  }
  const expecting = await mock.createApp({ strict: true });
  await expecting.backend("pushset", { push: { sounds: true } });
  const [finding] = await expecting.mistakes();
  assert.equal(finding.field, "push.sounds");
  await expecting.close(); // read, so expected
  const later = await mock.createApp({ strict: true });
  await later.backend("pushset", { push: { sounds: true } });
  await later.mistakes();
  await later.backend("groupadd", { group: { nmae: "g" } });
  await assert.rejects(later.close(), (error) => /group\.nmae/.test(error.message) && !/push\.sounds/.test(error.message));
});

test("a receiver answers 200 MESIBO OK, and 413 past 1 MiB", async () => {
  const receiver = await WebhookReceiver.start();
  try {
    const ok = await fetch(receiver.url, { method: "POST", body: JSON.stringify({ events: [{ type: "user" }] }) });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "MESIBO OK");
    const big = await fetch(receiver.url, { method: "POST", body: "x".repeat((1 << 20) + 1) });
    assert.equal(big.status, 413);
    assert.equal(receiver.posts.length, 1);
  } finally {
    await receiver.close();
  }
});

/** A child Node process that starts a server and prints what happened; env without our settings. */
function childStart(cwd, extraEnv = {}) {
  const env = { ...process.env, PATH: "/usr/bin:/bin", ...extraEnv };
  delete env.MESIBO_MOCK_BIN;
  delete env.MESIBO_MOCK_URL;
  const script = `
    const { MesiboMock } = require(${JSON.stringify(INDEX)});
    MesiboMock.start({ startupTimeout: 30 }).then(
      async (m) => { console.log("STARTED " + m.url); await m.stop(); },
      (e) => { console.log("FAILED " + e.message); },
    );`;
  return spawnSync(process.execPath, ["-e", script], { cwd, env, encoding: "utf8", timeout: 60000 });
}

test("start() finds .venv/bin/mesibo-mock in the working folder's parents (the README's install)", () => {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "mesibo-project-"));
  try {
    fs.mkdirSync(path.join(project, ".venv", "bin"), { recursive: true });
    fs.symlinkSync(serverBinary(), path.join(project, ".venv", "bin", "mesibo-mock"));
    const deep = path.join(project, "packages", "api", "test");
    fs.mkdirSync(deep, { recursive: true });
    const done = childStart(deep);
    assert.match(done.stdout, /^STARTED http:\/\/127\.0\.0\.1:\d+/, done.stdout + done.stderr);
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
});

test("when no server can be found, the error names every place tried, MESIBO_MOCK_BIN and the install", () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "mesibo-empty-"));
  try {
    const done = childStart(empty, { PYTHONPATH: "" });
    assert.match(done.stdout, /FAILED mesibo-mock could not be started/);
    assert.match(done.stdout, /MESIBO_MOCK_BIN \(not set\)/);
    assert.match(done.stdout, /mesibo-mock on PATH \(not found\)/);
    assert.match(done.stdout, new RegExp(`\\.venv/bin/mesibo-mock in ${empty.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} and its parents`));
    assert.match(done.stdout, /python3 -m mesibo_mock \(exited with status 1: .*No module named mesibo_mock/);
    assert.match(done.stdout, /python3 -m venv \.venv && \.venv\/bin\/pip install/);
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

test("a server a client started ends when the test process is killed with SIGKILL", async () => {
  const script = `
    const { MesiboMock } = require(${JSON.stringify(INDEX)});
    MesiboMock.start().then((m) => { console.log("PID " + m.child.pid); setInterval(() => {}, 1000); });`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const pid = await new Promise((resolve) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const found = out.match(/PID (\d+)/);
      if (found) resolve(Number(found[1]));
    });
  });
  assert.ok(alive(pid));
  child.kill("SIGKILL");
  const deadline = Date.now() + 10000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(alive(pid), false, "the server outlived its test process");
});

function alive(pid) {
  try {
    process.kill(pid, 0);
    return !fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2].startsWith("Z");
  } catch {
    return false;
  }
}
