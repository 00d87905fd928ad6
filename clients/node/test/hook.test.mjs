// `mesibo-mock/test` under node:test: a user's file (test-fixtures/hook-user.mjs) run as a user would,
// each test's ending checked from the runner's own output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

test("useMesiboMock: an app per test named after it, strict mode, and the report on a failed test", () => {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // a file of its own run, not a subtest of this one
  const run = spawnSync(process.execPath, ["--test", "--test-reporter=tap", "test-fixtures/hook-user.mjs"], {
    cwd: PACKAGE,
    env,
    encoding: "utf8",
    timeout: 120000,
  });
  const out = run.stdout + run.stderr;
  assert.notEqual(run.status, 0, out);
  assert.match(out, /^ok \d+ - passes with its own app, named after it$/m, out);
  assert.match(out, /^ok \d+ - a finding it reads is expected$/m, out);
  assert.match(out, /^not ok \d+ - fails, and the report shows its calls$/m, out);
  assert.match(out, /^not ok \d+ - a typo fails it through strict mode$/m, out);
  assert.match(out, /# mesibo-mock: backend calls during this test/);
  assert.match(out, /# \\?#\d+ \/backend op=useradd \(json\) -> ok/);
  assert.match(out, /'push\.sounds' is not a field of pushset.*did you mean 'push\.sound'\?/);
  assert.match(out, /# pass 2\n# fail 2/);
});
