"use strict";
// useMesiboMock: one server per test file, an app per test named after it, strict mode, and the server's
// failure report printed when a test fails. The test framework's hooks are passed in (test.mjs and
// test.cjs find them: node:test, Vitest, or Jest's globals).

const path = require("node:path");
const { MesiboMock } = require("./index.cjs");

function useMesiboMock(hooks, { credentials = "sample", strict = true, app: appOptions = {}, hooks: _given, ...startOptions } = {}) {
  let mock = null;
  let current = null;
  let failed = false;
  const handle = {
    /** The server of this file (a MesiboMock; its helpers act on the server's app `default`). */
    get mock() {
      if (!mock) throw new Error("useMesiboMock: the server starts before the first test; use `mesibo.app` inside a test");
      return mock;
    },
    /** The running test's own app (a MesiboApp). */
    get app() {
      if (!current) throw new Error("useMesiboMock: `mesibo.app` is the running test's app; read it inside a test or a hook");
      return current;
    },
  };

  hooks.beforeAll(async () => {
    mock = await MesiboMock.start(startOptions);
  });
  hooks.afterAll(async () => {
    if (mock) await mock.stop();
    mock = null;
  });
  hooks.beforeEach(async (context) => {
    failed = false;
    context?.onTestFailed?.(() => {
      failed = true; // Vitest says so here
    });
    current = await mock.createApp({ name: testName(context), credentials, strict, ...appOptions });
  });
  hooks.afterEach(async (context) => {
    const app = current;
    current = null;
    if (!app) return;
    if (failed || context?.passed === false || context?.task?.result?.state === "fail") {
      const report = await app.report().catch((error) => `(the report could not be read: ${error.message})`);
      const text = `mesibo-mock: backend calls during this test (${app.name})\n${report}`;
      if (typeof context?.diagnostic === "function") {
        for (const line of text.trimEnd().split("\n")) context.diagnostic(line); // one line each, or it shows escaped
      } else {
        process.stderr.write(text + "\n");
      }
      app.strict = false; // the test failed already; its mistakes are in the report
    }
    await app.close(); // strict mode: throws, failing the test, naming each mistake
  });
  return handle;
}

/** `file::test name`, as pytest names a test: node:test's context, Vitest's task, Jest's expect state. */
function testName(context) {
  const file = path.relative(process.cwd(), context?.task?.file?.filepath ?? context?.filePath ?? process.argv[1] ?? "");
  let name = context?.fullName ?? context?.name;
  if (context?.task) {
    const parts = [];
    for (let task = context.task; task && task.type !== "file" && task.name; task = task.suite) parts.unshift(task.name);
    name = parts.join(" > ");
  }
  name = name ?? globalThis.expect?.getState?.().currentTestName;
  return name ? `${file}::${name}` : undefined;
}

module.exports = { useMesiboMock, testName };
