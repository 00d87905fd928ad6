// `import { useMesiboMock } from "mesibo-mock/test"`: the hook for node:test and Vitest (and Jest's
// globals). At the top of a test file:
//
//     const mesibo = useMesiboMock({ credentials: "sample", strict: true });
//     test("...", async () => { await mesibo.app.registerDevice("bob"); ... });
import cjs from "./hook.cjs";

async function frameworkHooks() {
  if (process.env.VITEST) {
    const { beforeAll, afterAll, beforeEach, afterEach } = await import("vitest");
    return { beforeAll, afterAll, beforeEach, afterEach };
  }
  if (typeof globalThis.beforeAll === "function" && typeof globalThis.afterEach === "function") {
    const { beforeAll, afterAll, beforeEach, afterEach } = globalThis; // Jest (and Vitest's globals)
    return { beforeAll, afterAll, beforeEach, afterEach };
  }
  const { before, after, beforeEach, afterEach } = await import("node:test");
  return { beforeAll: before, afterAll: after, beforeEach, afterEach };
}

const hooks = await frameworkHooks();

/** One server for this file, an app per test (`mesibo.app`), strict mode, the report on failure.
 * Options: credentials ("sample"), strict (true), app (more createApp options), and start()'s. */
export function useMesiboMock(options = {}) {
  return cjs.useMesiboMock(options.hooks ?? hooks, options);
}
export default useMesiboMock;
