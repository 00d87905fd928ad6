// Compiled as an ES module: the "import" condition of the exports map resolves to the same types.
import { MesiboMock, type PushRecord } from "mesibo-mock";

export async function esm(): Promise<PushRecord[]> {
  const mock = await MesiboMock.start();
  const app = await mock.createApp({ credentials: "sample", strict: true });
  return app.waitForPushes({ count: 1, address: "1" });
}
