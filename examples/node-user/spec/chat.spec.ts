// The same tests with Vitest (`npx vitest run spec/`), in TypeScript under --strict. Each file starts its
// own server, so files that run at once and move the clock never share one.
import { test, expect, assert } from "vitest";
import { useMesiboMock } from "mesibo-mock/test";
import { chatBackend } from "../src/chat.js";

const mesibo = useMesiboMock({ credentials: "sample", strict: true });
const backend = () => chatBackend({ url: mesibo.app.backendUrl, token: mesibo.app.token });

test("a message to an offline user pushes to their Android phone through FCM", async () => {
  await mesibo.app.registerDevice("bob", { pushToken: "fcm-bob" });
  await backend().signUp("ann", "Ann");
  const mid = await backend().send("ann", "bob", "are you there?");
  const [push] = await mesibo.app.waitForPushes({ mid });
  assert(push.service === "fcm"); // narrows the record: an FCM push, its request FCM v1's
  expect(push.status).toBe("sent");
  expect(push.request.body.message.data.body).toBe("are you there?");
});

test("the webhook hears a user come online and go offline", async () => {
  const hook = await mesibo.app.webhookReceiver({ events: ["user"] });
  await backend().signUp("bob", "Bob");
  await mesibo.app.setOnline("bob", true);
  await mesibo.app.setOnline("bob", false);
  const events = await hook.waitForEvents({ count: 2, type: "user" });
  expect(events.map((e) => e.status)).toEqual(["online", "offline"]);
});

test("a silent phone gets an alert after 30 seconds, on the emulator's clock", async () => {
  await mesibo.app.registerDevice("bob", { responds: false });
  await mesibo.app.backend("pushtest", { push: { address: "bob" } });
  await mesibo.app.advance(30); // no sleeping
  const [fallback] = await mesibo.app.waitForPushes({ kind: "fallback" });
  expect(fallback.push_type).toBe("alert");
  await mesibo.app.realTime();
});

test("strict mode names the typo Mesibo would ignore", async () => {
  await backend().preferAlerts();
  const [finding] = await mesibo.app.mistakes(); // read, so expected
  expect(finding.text).toMatch(/did you mean 'push\.background'\?/);
});
