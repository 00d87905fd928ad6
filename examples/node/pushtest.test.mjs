// A Node integration test against a running mesibo-mock (node >= 18: built-in fetch and node:test).
//   MESIBO_URL=http://127.0.0.1:8000 MESIBO_APP_TOKEN=<token> node --test examples/node/
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";

const base = process.env.MESIBO_URL ?? "http://127.0.0.1:8000";
const token = process.env.MESIBO_APP_TOKEN;

async function json(path, init = {}) {
  const res = await fetch(base + path, {
    ...init,
    headers: { "content-type": "application/json", ...(init.headers ?? {}) },
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

beforeEach(async () => {
  await json("/_mock/reset", { method: "POST" });
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

  const { body } = await json("/_mock/pushes?address=123456&wait=5");
  assert.equal(body.pushes[0].service, "fcm");
  assert.equal(body.pushes[0].reason, "NO_FCM_CREDENTIALS");
});

test("a bad option is refused with BADVALUE naming the field", async () => {
  const { body } = await json("/backend", {
    method: "POST",
    body: JSON.stringify({ op: "pushset", token, push: { sound: "loud" } }),
  });
  assert.equal(body.error, "BADVALUE");
  assert.equal(body.code, 400);
  assert.deepEqual(body.properties, ["sound"]);
});
