// The same tests with Vitest (`npx vitest run spec/`): each file starts its own server, so files that
// run at once and move the clock never share one.
import { test, expect, beforeAll, afterAll, beforeEach, afterEach } from "vitest";
import { MesiboMock } from "mesibo-mock";
import { chatBackend } from "../src/chat.js";

let mock, app, backend;
beforeAll(async () => (mock = await MesiboMock.start()));
afterAll(() => mock.stop());
beforeEach(async () => {
  app = await mock.createApp({ credentials: "sample", strict: true });
  backend = chatBackend({ url: app.backendUrl, token: app.token });
});
afterEach(() => app.close());

test("a message to an offline user pushes to their Android phone through FCM", async () => {
  await app.registerDevice("bob", { pushToken: "fcm-bob" });
  await backend.signUp("ann", "Ann");
  const mid = await backend.send("ann", "bob", "are you there?");
  const [push] = await app.waitForPushes({ mid });
  expect(push).toMatchObject({ service: "fcm", status: "sent" });
  expect(push.request.body.message.data.body).toBe("are you there?");
});

test("the webhook hears a user come online and go offline", async () => {
  const hook = await app.webhookReceiver({ events: ["user"] });
  await backend.signUp("bob", "Bob");
  await app.setOnline("bob", true);
  await app.setOnline("bob", false);
  const events = await hook.waitForEvents({ count: 2, type: "user" });
  expect(events.map((e) => e.status)).toEqual(["online", "offline"]);
});

test("a silent phone gets an alert after 30 seconds, on the emulator's clock", async () => {
  await app.registerDevice("bob", { responds: false });
  await app.backend("pushtest", { push: { address: "bob" } });
  await app.advance(30); // no sleeping
  const [fallback] = await app.waitForPushes({ kind: "fallback" });
  expect(fallback.push_type).toBe("alert");
});

test("strict mode names the typo Mesibo would ignore", async () => {
  await backend.preferAlerts();
  await expect(app.close()).rejects.toThrow(/did you mean 'push\.background'\?/);
});
