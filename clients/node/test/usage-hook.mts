// Type-checked under `strict`, never run: the README's hook and the typed push union. After checking
// `push.service`, a test reads the service's own request with no cast.
import { test } from "node:test";
import assert from "node:assert/strict";
import { useMesiboMock } from "mesibo-mock/test";
import type { Delivery, Mistake, Otp, Timeline, WebhookAttempt } from "mesibo-mock";

const mesibo = useMesiboMock({ credentials: "sample", strict: true, env: { FALLBACK_SECONDS: 5 } });

test("an offline user's message becomes an FCM push", async () => {
  const app = mesibo.app;
  await app.registerDevice("bob", { pushToken: "fcm-bob" });
  const mid: number = await app.sendMessage("ann", "bob", "are you there?");
  const [push] = await app.waitForPushes({ mid });
  assert.equal(push.service, "fcm"); // an assertion: from here `push` is an FcmPush
  assert.equal(push.request.body.message.data.body, "are you there?");
  const [other] = await app.pushes({ address: "ann" });
  if (other.service === "apn") {
    const topic: string = other.request.headers["apns-topic"];
    const alert: string | undefined = other.request.body.aps.alert?.body;
    void [topic, alert];
  } else {
    const token: string = other.request.body.message.token;
    void token;
  }
  const findings: Mistake[] = await app.mistakes();
  const timeline: Timeline = await app.timeline(mid);
  const deliveries: Delivery[] = await app.deliveries({ state: "failed" });
  const attempts: WebhookAttempt[] = await app.waitForWebhookAttempts({ count: 1, timeout: 1 });
  const codes: Otp[] = await app.otps("bob");
  const report: string = await app.report({ after: 0 });
  await app.resetApp();
  await app.setDisabled(false);
  await app.clearPushes({ allApps: false });
  const servers = await mesibo.mock.apps({ name: "default" });
  void [findings, timeline, deliveries, attempts, codes, report, servers];
});
