// A Node integration test against a running mesibo-mock (node >= 18: built-in fetch and node:test).
// It makes an app of its own and deletes it after: the server's other apps and users are left alone.
//   PORT=8000 node --test examples/node/         (or MESIBO_URL=http://host:port)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";

const base = process.env.MESIBO_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8000}`;
const token = `node-example-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;

async function json(path, init = {}) {
  const res = await fetch(base + path, {
    ...init,
    headers: { "content-type": "application/json", ...(init.headers ?? {}) },
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

before(async () => {
  const app = await json("/_mock/apps", { method: "POST", body: JSON.stringify({ name: "node example", token }) });
  assert.equal(app.status, 201);
});

after(async () => {
  await json(`/_mock/apps/${token}`, { method: "DELETE" });
});

test("pushtest renders an FCM request for an Android phone", async () => {
  const device = await json(`/_mock/apps/${token}/devices`, {
    method: "POST",
    body: JSON.stringify({ address: "123456", platform: "android", appid: "com.example.app", push_token: "fcm-1" }),
  });
  assert.equal(device.status, 201);

  const answer = await json("/backend", {
    method: "POST",
    body: JSON.stringify({ op: "pushtest", token, push: { address: "123456" } }),
  });
  assert.equal(answer.body.result, true);
  assert.equal(answer.body.push.results.length, 1);

  const { body } = await json(`/_mock/pushes?token=${token}&address=123456&wait=5`);
  assert.equal(body.pushes[0].service, "fcm");
  assert.equal(body.pushes[0].reason, "NO_FCM_CREDENTIALS");
});

test("a bad option is refused with BADVALUE naming the field, and the journal says why", async () => {
  const { body } = await json("/backend", {
    method: "POST",
    body: JSON.stringify({ op: "pushset", token, push: { sound: "loud" } }),
  });
  assert.equal(body.error, "BADVALUE");
  assert.equal(body.code, 400);
  assert.deepEqual(body.properties, ["sound"]);
  const journal = await json(`/_mock/requests?token=${token}&op=pushset&limit=1`);
  assert.match(journal.body.requests[0].diagnosis[0].problem, /must be a boolean/);
});
