// @ts-check
// A chat backend's own code: what calls Mesibo's backend API. In production MESIBO_API_URL is
// https://api.mesibo.com/backend; under test it is the emulator's. Nothing here knows about tests.

/** @param {{url?: string, token?: string}} [config] */
export function chatBackend({ url = process.env.MESIBO_API_URL, token = process.env.MESIBO_APP_TOKEN } = {}) {
  if (!url || !token) throw new Error("set MESIBO_API_URL and MESIBO_APP_TOKEN");
  const endpoint = url;

  /** @param {string} op @param {Record<string, unknown>} fields */
  async function call(op, fields) {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ op, token, ...fields }),
    });
    const answer = await response.json();
    if (!answer.result) throw new Error(`Mesibo refused ${op}: ${answer.error} ${answer.cause ?? ""}`);
    return answer;
  }

  return {
    /** @param {string} phone @param {string} name */
    signUp: (phone, name) => call("useradd", { user: { address: phone, name } }),
    /** @param {string} from @param {string} to @param {string} text @returns {Promise<number>} */
    send: async (from, to, text) => (await call("message", { message: { from, to, message: text } })).mid,
    // A typo Mesibo answers with result: true and ignores: "backgroud" is not a push option.
    preferAlerts: () => call("pushset", { push: { backgroud: false } }),
  };
}
