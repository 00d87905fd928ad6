// Node's global fetch (undici) at its defaults: JSON, URLSearchParams, FormData with a Blob.
import { readFileSync } from "node:fs";
const url = process.env.MATRIX_BACKEND, token = process.env.MATRIX_TOKEN, address = process.env.MATRIX_ADDRESS;
async function call(name, target, init = {}) {
  const response = await fetch(target, init);
  console.log(`${name} ${response.status} ${await response.text()}`);
}
await call("json", url, { method: "POST", headers: { "content-type": "application/json" },
  body: JSON.stringify({ op: "useradd", token, user: { address, name: "json" } }) });
await call("form", url, { method: "POST", body: new URLSearchParams({ op: "userset", token, addr: address, name: "form" }) });
await call("query", `${url}?${new URLSearchParams({ op: "usersget", token, addr: address })}`);
const form = new FormData();
form.append("op", "pushupload");
form.append("token", token);
form.append("file", new Blob([readFileSync(process.env.MATRIX_FILE)], { type: "application/json" }), "fcm.json");
await call("multipart", url, { method: "POST", body: form });
