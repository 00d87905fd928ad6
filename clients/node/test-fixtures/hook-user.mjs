// A user's test file with the hook (run by test/hook.test.mjs, which checks how each test ends).
import { test } from "node:test";
import assert from "node:assert/strict";
import { useMesiboMock } from "mesibo-mock/test";

const mesibo = useMesiboMock({ credentials: "sample", strict: true });

test("passes with its own app, named after it", async () => {
  assert.equal(mesibo.app.name, "test-fixtures/hook-user.mjs::passes with its own app, named after it");
  await mesibo.app.registerDevice("bob");
  await mesibo.app.backend("pushtest", { push: { address: "bob" } });
  const [push] = await mesibo.app.waitForPushes();
  assert.equal(push.status, "sent"); // the sample credentials
  assert.deepEqual(await mesibo.mock.pushes(), []); // the server's default app saw none
});

test("fails, and the report shows its calls", async () => {
  await mesibo.app.backend("useradd", { user: { address: "ann", name: "Ann" } });
  assert.equal(1, 2, "the code under test went wrong");
});

test("a typo fails it through strict mode", async () => {
  await mesibo.app.backend("pushset", { push: { sounds: true } });
});

test("a finding it reads is expected", async () => {
  await mesibo.app.backend("pushset", { push: { sounds: true } });
  const [finding] = await mesibo.app.mistakes();
  assert.equal(finding.field, "push.sounds");
});
