// @ts-check
// The chat backend's tests with node:test, against mesibo-mock (`npm test`). One line of set-up: each
// test gets an app of its own (`mesibo.app`, named after the test) with the sample push credentials and
// strict mode; a failed test prints the backend calls it made. Type-checked under --strict (`npm run typecheck`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { useMesiboMock } from "mesibo-mock/test";
import { chatBackend } from "../src/chat.js";

const mesibo = useMesiboMock({ credentials: "sample", strict: true });
const backend = () => chatBackend({ url: mesibo.app.backendUrl, token: mesibo.app.token });

test("a message to an offline user pushes to their Android phone through FCM", async () => {
  await mesibo.app.registerDevice("bob", { pushToken: "fcm-bob" }); // as Mesibo's SDK would on the phone
  await backend().signUp("ann", "Ann");
  const mid = await backend().send("ann", "bob", "are you there?");
  const [push] = await mesibo.app.waitForPushes({ mid });
  assert.equal(push.service, "fcm"); // from here on, `push` is an FCM push
  assert.equal(push.status, "sent");
  assert.equal(push.request.body.message.token, "fcm-bob");
  assert.equal(push.request.body.message.data.body, "are you there?"); // what FCM would have got
});

test("the webhook hears a user come online and go offline", async () => {
  const hook = await mesibo.app.webhookReceiver({ events: ["user"] });
  await backend().signUp("bob", "Bob");
  await mesibo.app.setOnline("bob", true);
  await mesibo.app.setOnline("bob", false);
  const events = await hook.waitForEvents({ count: 2, type: "user" });
  assert.deepEqual(events.map((e) => `${e.user?.address} ${e.status}`), ["bob online", "bob offline"]);
});

test("strict mode names the typo Mesibo would ignore", async () => {
  await backend().preferAlerts(); // Mesibo answers result: true and changes nothing
  const [finding] = await mesibo.app.mistakes(); // read, so expected: the test does not fail for it
  assert.equal(finding.field, "push.backgroud");
  assert.match(finding.text, /did you mean 'push\.background'\?/);
});
