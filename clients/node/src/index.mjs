// The ESM entry point: the same objects as the CommonJS one (src/index.cjs), so `import` and `require`
// in one process never see two copies of a class.
import cjs from "./index.cjs";

export const { MesiboMock, MesiboApp, WebhookReceiver, MesiboMockError, DEFAULT_APP_TOKEN } = cjs;
export default cjs;
