// The chat backend's tests with node:test, against mesibo-mock (`npm test`). Each test gets an app of
// its own with sample push credentials and strict mode: a field Mesibo would ignore fails the test.
import { test, before, after, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { MesiboMock } from "mesibo-mock";
import { chatBackend } from "../src/chat.js";

let mock, app, backend;
before(async () => (mock = await MesiboMock.start()));
after(() => mock.stop());
beforeEach(async () => {
  app = await mock.createApp({ credentials: "sample", strict: true });
  backend = chatBackend({ url: app.backendUrl, token: app.token });
});
afterEach(() => app.close());

test("a message to an offline user pushes to their Android phone through FCM", async () => {
  await app.registerDevice("bob", { pushToken: "fcm-bob" }); // as Mesibo's SDK would on the phone
  await backend.signUp("ann", "Ann");
  const mid = await backend.send("ann", "bob", "are you there?");
  const [push] = await app.waitForPushes({ mid });
  assert.equal(push.service, "fcm");
  assert.equal(push.status, "sent");
  assert.equal(push.request.body.message.token, "fcm-bob");
  assert.equal(push.request.body.message.data.body, "are you there?"); // what FCM would have got
});

test("the webhook hears a user come online and go offline", async () => {
  const hook = await app.webhookReceiver({ events: ["user"] });
  await backend.signUp("bob", "Bob");
  await app.setOnline("bob", true);
  await app.setOnline("bob", false);
  const events = await hook.waitForEvents({ count: 2, type: "user" });
  assert.deepEqual(events.map((e) => `${e.user.address} ${e.status}`), ["bob online", "bob offline"]);
});

test("strict mode names the typo Mesibo would ignore", async () => {
  await backend.preferAlerts(); // Mesibo answers result: true and changes nothing
  await assert.rejects(app.close(), /'push\.backgroud' is not a field of pushset.*did you mean 'push\.background'\?/);
});
