// The Node client against a real server: `node --test test/` (MESIBO_MOCK_BIN or mesibo-mock on PATH).
import { test, before, after, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

import { MesiboMock, MesiboApp, WebhookReceiver, MesiboMockError } from "mesibo-mock";

const require = createRequire(import.meta.url);

let mock;
let app;

before(async () => {
  mock = await MesiboMock.start();
});

after(async () => {
  await mock.stop();
});

beforeEach(async () => {
  app = await mock.createApp({ credentials: "sample" });
});

afterEach(async () => {
  await app.close();
});

test("import and require give the same classes", () => {
  const cjs = require("mesibo-mock");
  assert.equal(cjs.MesiboMock, MesiboMock);
  assert.equal(cjs.MesiboApp, MesiboApp);
  assert.equal(cjs.WebhookReceiver, WebhookReceiver);
});

test("start() reads the ready line: url, backend url and the default app", async () => {
  assert.match(mock.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(mock.backendUrl, mock.url + "/backend");
  assert.equal(mock.appToken, "mesibo-mock-test-token");
  assert.equal((await mock.health()).status, "ok");
  assert.equal((await mock.app()).name, "default");
});

test("an app of its own: a token, sample credentials, helpers scoped to it", async () => {
  assert.notEqual(app.token, mock.appToken);
  const view = await app.app();
  assert.equal(view.credentials.fcm.project_id, "mesibo-mock-demo");
  assert.equal(view.credentials.apn[0].bundle, "com.example.app");
  await app.registerDevice("ann");
  await app.registerDevice("ann", { platform: "ios" });
  const answer = await app.backend("pushtest", { push: { address: "ann" } });
  assert.equal(answer.result, true);
  const pushes = await app.waitForPushes({ address: "ann", count: 2 });
  assert.deepEqual(pushes.map((p) => p.service).sort(), ["apn", "fcm"]);
  assert.ok(pushes.every((p) => p.status === "sent" && p.app === app.token));
  assert.deepEqual(await mock.pushes(), []); // the default app saw none of it
});

test("an offline user's message pushes to FCM; a group message too", async () => {
  for (const phone of ["1", "2"]) await app.registerDevice(phone, { pushToken: `fcm-${phone}` });
  await app.setOnline("1", true);
  const mid = await app.sendMessage("1", "2", "hello");
  const [push] = await app.waitForPushes({ mid });
  assert.equal(push.address, "2");
  assert.equal(push.request.body.message.token, "fcm-2");
  assert.equal(push.request.body.message.data.body, "hello");
  const [message] = await app.waitForMessages({ from: "1" });
  assert.equal(message.mid, mid);
  const { group } = await app.backend("groupadd", { group: { name: "team", members: { m: "1,2" } } });
  const groupMid = await app.sendMessage("1", null, "all", { gid: group.gid });
  assert.equal((await app.waitForPushes({ mid: groupMid }))[0].address, "2");
});

test("the webhook receiver hears users go online and offline, in order", async () => {
  const hook = await app.webhookReceiver({ events: ["user"] });
  await app.backend("useradd", { user: { address: "bob" } });
  await app.setOnline("bob", true);
  await app.setOnline("bob", false);
  const events = await hook.waitForEvents({ count: 2, type: "user" });
  assert.deepEqual(events.map((e) => e.status), ["online", "offline"]);
  assert.equal(events[0].user.address, "bob");
  assert.equal(hook.posts[0].server, "mesibo");
  const sent = await app.waitForEvents({ count: 2, type: "user" });
  assert.equal(sent.length, 2);
});

test("strict mode: close() throws with the plugin's text, naming the typo, and still deletes the app", async () => {
  const strict = await mock.createApp({ strict: true });
  await strict.backend("pushset", { push: { sounds: true } });
  await assert.rejects(strict.close(), (error) => {
    assert.ok(error instanceof MesiboMockError);
    assert.match(error.message, /^mesibo-mock strict mode: 1 backend call mistake\(s\)/);
    assert.match(error.message, /'push\.sounds' is not a field of pushset.*did you mean 'push\.sound'\?/);
    return true;
  });
  await assert.rejects(strict.app(), /404/);
  const clean = await mock.createApp({ strict: true });
  await clean.backend("pushset", { push: { sound: true } });
  await clean.close(); // nothing to say
});

test("mistakes() and requests() read the journal", async () => {
  await app.backend("nosuchop");
  const [mistake] = await app.mistakes();
  assert.equal(mistake.kind, "unknown op");
  assert.match(mistake.text, /names no Mesibo op/);
  const [entry] = await app.waitForRequests({ op: "nosuchop" });
  assert.equal(entry.answer.error, "BADVALUE");
  assert.equal(entry.fields.token, "[redacted]");
});

test("the clock: a silent phone gets its alert after 30 seconds", async () => {
  await app.registerDevice("1", { responds: false });
  await app.backend("pushtest", { push: { address: "1" } });
  await app.advance(30);
  const [fallback] = await app.waitForPushes({ kind: "fallback" });
  assert.equal(fallback.push_type, "alert");
  await app.realTime();
});

test("faults: a push fault and a backend fault", async () => {
  await app.registerDevice("1");
  await app.injectFault("UNREGISTERED", { address: "1" });
  await app.backend("pushtest", { push: { address: "1" } });
  const [push] = await app.waitForPushes({ address: "1" });
  assert.equal(push.reason, "UNREGISTERED");
  await app.backendFault("QUOTAEXCEEDED", { op: "useradd" });
  const refused = await app.backend("useradd", { user: { address: "x" } });
  assert.equal(refused.error, "QUOTAEXCEEDED");
  assert.equal((await app.backend("useradd", { user: { address: "x" } })).result, true);
});

test("uploadCredential takes bytes from /_mock/samples, as a multipart pushupload", async () => {
  const bytes = await app.sample("apn-development.p12");
  const answer = await app.uploadCredential(bytes, { type: "apn" });
  assert.equal(answer.push.sandbox, true);
  const names = (await app.samples()).map((s) => s.name);
  assert.ok(names.includes("fcm.json") && names.includes("apn-key.p8"));
});

test("waitForPushes times out with a clear error", async () => {
  await assert.rejects(app.waitForPushes({ address: "nobody", timeout: 0.3 }), /expected 1 push\(es\).*found 0/);
});

test("an HTTP error names the call", async () => {
  await assert.rejects(mock.createApp({ credentials: { fcm: "nope.json" } }), (error) => {
    assert.equal(error.status, 422);
    assert.match(error.message, /credentials\.fcm: no sample named 'nope\.json'/);
    return true;
  });
});

test("connect() attaches to a running server and finds its default app", async () => {
  const attached = await MesiboMock.connect({ url: mock.url });
  assert.equal(attached.appToken, mock.appToken);
  await attached.stop(); // closes nothing of the server
  assert.equal((await mock.health()).status, "ok");
  await assert.rejects(MesiboMock.connect({ url: "http://127.0.0.1:9" }), /cannot reach mesibo-mock/);
});

test("start() with a bad MESIBO_MOCK_BIN says what failed", async () => {
  const saved = process.env.MESIBO_MOCK_BIN;
  process.env.MESIBO_MOCK_BIN = "/nonexistent/mesibo-mock";
  try {
    await assert.rejects(MesiboMock.start(), /could not start: ENOENT/);
  } finally {
    if (saved === undefined) delete process.env.MESIBO_MOCK_BIN;
    else process.env.MESIBO_MOCK_BIN = saved;
  }
});

test("start() in onprem mode with env settings", async () => {
  const own = await MesiboMock.start({ mode: "onprem", env: { TESTPUSH_LIMIT: "1/60" } });
  try {
    assert.equal((await own.health()).mode, "onprem");
    assert.notEqual(own.url, mock.url);
  } finally {
    await own.stop();
  }
});
