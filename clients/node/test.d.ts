// Types for `mesibo-mock/test`: the node:test and Vitest hook.
import type { CreateAppOptions, MesiboApp, MesiboMock, SampleCredentials, StartOptions } from "./index.js";

export interface FrameworkHooks {
  beforeAll(fn: (...args: any[]) => unknown): unknown;
  afterAll(fn: (...args: any[]) => unknown): unknown;
  beforeEach(fn: (...args: any[]) => unknown): unknown;
  afterEach(fn: (...args: any[]) => unknown): unknown;
}

export interface UseMesiboMockOptions extends StartOptions {
  /** each test's app gets these ("sample" by default; null: none) */
  credentials?: SampleCredentials | null;
  /** a test fails for a mistake it did not read with mistakes() (true by default) */
  strict?: boolean;
  /** more of createApp()'s options for each test's app */
  app?: Omit<CreateAppOptions, "credentials" | "strict">;
  /** another framework's hooks (Jest's globals and Vitest's are found) */
  hooks?: FrameworkHooks;
}

export interface MesiboMockHandle {
  /** this file's server; its helpers act on the server's app `default` */
  readonly mock: MesiboMock;
  /** the running test's own app, named after the test */
  readonly app: MesiboApp;
}

/** One server for this file, an app per test, strict mode, and the server's report on a failed test. */
export declare function useMesiboMock(options?: UseMesiboMockOptions): MesiboMockHandle;
export default useMesiboMock;
