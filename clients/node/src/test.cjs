"use strict";
// `require("mesibo-mock/test")`: the hook for node:test (and Jest's globals) in CommonJS test files.
// Vitest's files are ES modules: they import "mesibo-mock/test" and get test.mjs.
const { useMesiboMock: use } = require("./hook.cjs");

function frameworkHooks() {
  if (typeof globalThis.beforeAll === "function" && typeof globalThis.afterEach === "function") {
    const { beforeAll, afterAll, beforeEach, afterEach } = globalThis;
    return { beforeAll, afterAll, beforeEach, afterEach };
  }
  const { before, after, beforeEach, afterEach } = require("node:test");
  return { beforeAll: before, afterAll: after, beforeEach, afterEach };
}

/** One server for this file, an app per test (`mesibo.app`), strict mode, the report on failure. */
function useMesiboMock(options = {}) {
  return use(options.hooks ?? frameworkHooks(), options);
}

module.exports = { useMesiboMock };
