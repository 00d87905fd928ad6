// Type-checked, never run: `npm run typecheck` compiles it against index.d.ts under `strict`, so a
// function or a record field missing from the types fails the check.
import { MesiboMock, MesiboApp, MesiboMockError, WebhookReceiver } from "mesibo-mock";
import type { JournalEntry, Mistake, PushRecord, WebhookEvent } from "mesibo-mock";

export async function usage(): Promise<void> {
  const mock: MesiboMock = await MesiboMock.start({ mode: "cloud", env: { TESTPUSH_LIMIT: "100/60" }, port: 0 });
  const app: MesiboApp = await mock.createApp({ credentials: "sample", strict: true });
  const device = await app.registerDevice("1", { platform: "ios", pushToken: "ab", responds: false });
  const envelope = await app.backend("pushtest", { push: { address: device.address } });
  const ok: boolean = envelope.result;
  const pushes: PushRecord[] = await app.waitForPushes({ address: "1", count: 1, timeout: 5, kind: "test" });
  const url: string = pushes[0].request.url;
  const mid: number = await app.sendMessage("1", "2", "hi", { gid: undefined });
  const [message] = await app.waitForMessages({ from: "1" });
  const reached: string[] = message.recipients.map((r) => r.address);
  const hook: WebhookReceiver = await app.webhookReceiver({ events: ["user", "message"] });
  const events: WebhookEvent[] = await hook.waitForEvents({ count: 2, type: "user", timeout: 3 });
  const status: "online" | "offline" | undefined = events[0].status;
  const calls: JournalEntry[] = await app.requests({ op: "useradd", diagnosed: true });
  const mistakes: Mistake[] = await app.mistakes({ after: calls[0]?.id });
  const report: string | null = await app.mistakesReport();
  await app.injectFault("Unregistered", { address: "1", count: null });
  await app.backendFault("QUOTAEXCEEDED", { op: "useradd", count: 2 });
  await app.backendFault(null, { http: 502 });
  await app.advance(30);
  await app.freeze();
  await app.realTime();
  const bytes: Buffer = await app.sample("fcm.json");
  await app.uploadCredential(bytes, { type: "fcm" });
  await app.uploadCredential("creds/sa.json");
  await app.close();
  const attached = await MesiboMock.connect({ url: mock.url, adminToken: "x" });
  await attached.stop();
  await mock.stop();
  const error = new MesiboMockError("x");
  void [ok, url, mid, reached, status, mistakes, report, error.status];
}
