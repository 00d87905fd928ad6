// The dashboard's live part: poll /_mock/pushes, render rows, expand a row to its request, response and
// webhook deliveries. Plain JS, no build step, nothing from a CDN.
"use strict";

const adminToken = document.body.dataset.adminToken || "";
const tbody = document.querySelector("#pushes tbody");
const filters = document.getElementById("filters");
const expanded = new Set();
const expandedMessages = new Set();
const messagesBody = document.querySelector("#messages tbody");
let newestSeen = 0;
let firstLoad = true;

function api(path, options = {}) {
  const headers = { "content-type": "application/json", ...(options.headers || {}) };
  if (adminToken) headers.authorization = "Bearer " + adminToken;
  return fetch(path, { ...options, headers }).then((r) => (r.status === 204 ? null : r.json()));
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  return node;
}

function pretty(value) {
  return value === null || value === undefined ? "null" : JSON.stringify(value, null, 2);
}

function query() {
  const params = new URLSearchParams({ limit: "200" });
  for (const [key, value] of new FormData(filters)) if (value) params.set(key, value);
  return params;
}

function row(push) {
  const tr = el("tr", { class: `record status-${push.status}`, "data-id": push.id, id: "push-" + push.id },
    el("td", {}, push.id), el("td", {}, push.ts), el("td", {}, push.app_name), el("td", {}, push.address),
    el("td", {}, push.service), el("td", {}, push.push_type), el("td", {}, push.kind),
    el("td", { class: "status" }, push.status, push.injected ? el("span", { class: "tag injected", title: "failed by a fault injected through /_mock/faults" }, "injected") : ""),
    el("td", {}, push.reason || ""), el("td", {}, push.debug ? "yes" : ""));
  if (!firstLoad && push.id > newestSeen) tr.classList.add("new");
  tr.addEventListener("click", () => {
    if (expanded.has(push.id)) expanded.delete(push.id); else expanded.add(push.id);
    refresh();
  });
  return tr;
}

async function detail(push) {
  const deliveries = (await api(`/_mock/webhooks?push_id=${push.id}`)).deliveries;
  const hooks = deliveries.length
    ? deliveries.map((d) => `attempt ${d.attempt}: ${d.ok ? "ok" : "failed"} ${d.status_code ?? ""} ${d.error ?? ""} (${d.duration_ms} ms)`).join("\n")
    : "no webhook deliveries";
  const links = [];
  if (push.mid !== null && push.mid !== undefined) {
    links.push(el("a", { href: "#message-" + push.mid, class: "message-link", "data-mid": push.mid }, `from message ${push.mid}`));
  }
  if (push.follows !== null && push.follows !== undefined) {
    links.push(el("a", { href: "#push-" + push.follows, class: "follows-link", "data-push": push.follows }, `fallback of push #${push.follows}`));
  }
  return el("tr", { class: "detail", "data-detail": push.id },
    el("td", { colspan: "10" },
      links.length ? el("p", { class: "links" }, ...links.flatMap((a) => [a, " "])) : "",
      el("div", { class: "detail-grid" },
        el("div", {}, el("h4", {}, "request"), el("pre", { class: "request" }, pretty(push.request))),
        el("div", {}, el("h4", {}, "response"), el("pre", { class: "response" }, pretty(push.response)))),
      el("h4", {}, "webhook deliveries"), el("pre", { class: "webhooks" }, hooks)));
}

function messageRow(message) {
  const tr = el("tr", { class: "message", id: "message-" + message.mid, "data-mid": message.mid },
    el("td", {}, message.mid), el("td", {}, message.ts), el("td", {}, message.from), el("td", {}, message.to ? message.to.join(", ") : ""),
    el("td", {}, message.gid ?? ""), el("td", {}, message.message), el("td", {}, message.pushes.length));
  tr.addEventListener("click", () => {
    if (expandedMessages.has(message.mid)) expandedMessages.delete(message.mid); else expandedMessages.add(message.mid);
    refresh();
  });
  return tr;
}

function messageDetail(message) {
  const items = message.pushes.length
    ? message.pushes.map((id) => el("a", { href: "#push-" + id, class: "push-link", "data-push": id }, `push #${id}`))
    : [el("span", { class: "muted" }, "no push: every recipient was online, or has no device")];
  return el("tr", { class: "detail", "data-message-detail": message.mid },
    el("td", { colspan: "7" }, el("h4", {}, "pushes it caused"), el("p", { class: "links" }, ...items.flatMap((a) => [a, " "]))));
}

// A link to a push or a message opens it in its table.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.push-link, a.follows-link, a.message-link");
  if (!link) return;
  event.preventDefault();
  if (link.dataset.push) expanded.add(Number(link.dataset.push));
  if (link.dataset.mid) expandedMessages.add(Number(link.dataset.mid));
  refresh().then(() => {
    const target = document.getElementById(link.getAttribute("href").slice(1));
    if (target) { target.classList.add("focus"); target.scrollIntoView({ block: "center" }); }
  });
});

async function refreshMessages() {
  const token = new FormData(filters).get("token");
  const params = new URLSearchParams({ limit: "100" });
  if (token) params.set("token", token);
  const data = await api("/_mock/messages?" + params);
  const rows = [];
  for (const message of data.messages) {
    rows.push(messageRow(message));
    if (expandedMessages.has(message.mid)) rows.push(messageDetail(message));
  }
  messagesBody.replaceChildren(...rows);
  document.getElementById("message-count").textContent = `(${data.messages.length} shown)`;
}

function clockNote(clock) {
  const note = document.getElementById("clock-note");
  const parts = [];
  if (clock.frozen) parts.push("frozen");
  if (Math.abs(clock.offset) >= 1) {
    const s = Math.abs(clock.offset);
    const amount = s >= 86400 ? `${(s / 86400).toFixed(1)} d` : s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`;
    parts.push(`${amount} ${clock.offset > 0 ? "ahead of" : "behind"} real time`);
  }
  note.textContent = parts.length ? "clock " + parts.join(", ") : "";
  note.hidden = parts.length === 0;
}

async function refresh() {
  const data = await api("/_mock/pushes?" + query());
  const rows = [];
  for (const push of data.pushes) {
    rows.push(row(push));
    if (expanded.has(push.id)) rows.push(await detail(push));
  }
  tbody.replaceChildren(...rows);
  document.getElementById("push-count").textContent = `(${data.pushes.length} shown)`;
  if (data.pushes.length) newestSeen = Math.max(newestSeen, data.pushes[0].id);
  firstLoad = false;
  await refreshMessages();
  const clock = await api("/_mock/clock");
  document.getElementById("clock").textContent = clock.now;
  clockNote(clock);
}

filters.addEventListener("input", refresh);
document.getElementById("advance").addEventListener("click", async () => {
  const seconds = Number(document.getElementById("advance-amount").value || 0) * Number(document.getElementById("advance-unit").value);
  await act("advance the clock", () => call("/_mock/clock", { method: "POST", body: JSON.stringify({ advance: seconds }) }));
});
document.getElementById("clear-pushes").addEventListener("click", async () => {
  await api("/_mock/pushes", { method: "DELETE" });
  expanded.clear();
  refresh();
});
document.getElementById("reset").addEventListener("click", async () => {
  if (!confirm("Wipe everything and re-apply the seed?")) return;
  await act("reset", () => call("/_mock/reset", { method: "POST", body: "{}" }));
});

refresh();
setInterval(() => refresh().catch(() => {}), 1000);

// --- the console: every action goes through the same HTTP API a test would use ---------------------
const notice = document.getElementById("notice");

function show(text, kind = "ok") {
  notice.textContent = text;
  notice.className = kind;
  notice.hidden = false;
}

// The emulator's own words for a backend call: its journal diagnosis, what Mesibo's fixed cause
// does not say (which field, what was wrong, the way out).
function diagnosisText(notes) {
  return notes.map((n) => (n.field ? `'${n.field}' ` : "") + n.problem + (n.hint ? ` (${n.hint})` : "")).join("; ");
}

// A refusal is shown with the envelope's error and code and the journal's explanation (or Mesibo's
// cause, or /_mock's detail), never dropped.
async function failure(body, status, journal) {
  if (body && body.error) {
    let why = body.cause;
    if (journal) {
      const params = new URLSearchParams({ limit: "1", token: journal.token, op: journal.op });
      const entry = (await api("/_mock/requests?" + params).catch(() => ({ requests: [] }))).requests[0];
      if (entry && entry.diagnosis.length) why = diagnosisText(entry.diagnosis);
    }
    return `${body.error} (code ${body.code}): ${why}`;
  }
  const detail = body && body.detail;
  const text = typeof detail === "string" ? detail : JSON.stringify(detail ?? body);
  return `HTTP ${status}: ${text}`;
}

async function call(path, options = {}, journal = null) {
  const headers = { ...(options.headers || {}) };
  if (!(options.body instanceof FormData)) headers["content-type"] = "application/json";
  if (adminToken && path.startsWith("/_mock")) headers.authorization = "Bearer " + adminToken;
  const response = await fetch(path, { ...options, headers });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  const ok = response.ok && !(body && body.result === false);
  if (!ok) throw new Error(await failure(body, response.status, journal));
  return body;
}

function backend(token, op, fields) {
  return call("/backend", { method: "POST", body: JSON.stringify({ op, token, ...fields }) }, { token, op });
}

// Run an action; on success show what happened and reload the server-rendered view.
// A refusal also shows beside the form that caused it (`near`).
async function act(what, action, { reload = true, near = null } = {}) {
  const old = near && near.querySelector(".form-error");
  if (old) old.remove();
  try {
    const result = await action();
    show(`${what}: done`);
    if (reload) setTimeout(() => location.reload(), 400);
    return result;
  } catch (error) {
    show(`${what} refused: ${error.message}`, "error");
    if (near) near.append(el("output", { class: "form-error", role: "alert" }, error.message));
    return null;
  }
}

function appToken(el) {
  return el.closest("article.app").dataset.token;
}

function formFields(form) {
  return Object.fromEntries(new FormData(form).entries());
}

document.addEventListener("change", (event) => {
  const box = event.target.closest(".options-form input[type=checkbox]");
  if (!box) return;
  act(`pushset ${box.name}`, () => backend(appToken(box), "pushset", { push: { [box.name]: box.checked } }));
});

document.addEventListener("click", (event) => {
  const target = event.target;
  if (target.matches(".end-debug")) {
    act("end the debug window", () => backend(appToken(target), "pushdebug", { push: { duration: 0 } }));
  } else if (target.matches(".remove-webhook")) {
    act("remove the webhook", () => call(`/_mock/apps/${appToken(target)}/webhook`, { method: "DELETE" }));
  } else if (target.matches(".delete-app")) {
    if (!confirm("Delete this app with its users, groups and credentials?")) return;
    act("delete the app", () => call(`/_mock/apps/${appToken(target)}`, { method: "DELETE" }));
  } else if (target.matches(".toggle-online")) {
    const online = target.dataset.online !== "true";
    const path = `/_mock/apps/${appToken(target)}/users/${encodeURIComponent(target.dataset.address)}/online`;
    act(`set ${target.dataset.address} ${online ? "online" : "offline"}`, () => call(path, { method: "PUT", body: JSON.stringify({ online }) }));
  } else if (target.matches(".delete-fault")) {
    act("remove the fault", () => call(`/_mock/faults/${target.dataset.id}`, { method: "DELETE" }), { reload: false }).then(refreshFaults);
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  const token = form.closest("article.app") ? appToken(form) : null;
  const fields = formFields(form);
  event.preventDefault();
  const near = form;
  if (form.matches(".debug-form")) {
    act("open a debug window", () => backend(token, "pushdebug", { push: { duration: Number(fields.duration) } }));
  } else if (form.matches(".webhook-form")) {
    const events = [...form.querySelectorAll("input[name=events]:checked")].map((box) => box.value);
    const body = { url: fields.url, events, ...(fields.secret ? { secret: fields.secret } : {}) };
    act("set the webhook", () => call(`/_mock/apps/${token}/webhook`, { method: "PUT", body: JSON.stringify(body) }));
  } else if (form.matches(".upload-form")) {
    const data = new FormData();
    data.set("op", "pushupload");
    data.set("token", token);
    if (fields.type) data.set("type", fields.type);
    data.set("file", form.querySelector("input[type=file]").files[0]);
    act("pushupload", () => call("/backend", { method: "POST", body: data }, { token, op: "pushupload" }), { near });
  } else if (form.matches(".device-form")) {
    const device = {
      address: fields.address, platform: fields.platform, appid: fields.appid, push_token: fields.push_token,
      voip: "voip" in fields, sandbox: "sandbox" in fields, responds: "responds" in fields,
    };
    act("register a device", () => call(`/_mock/apps/${token}/devices`, { method: "POST", body: JSON.stringify(device) }));
  } else if (form.matches(".pushtest-form")) {
    act("pushtest", async () => {
      const answer = await backend(token, "pushtest", { push: { address: fields.address } });
      form.querySelector("output").textContent = answer.push.results.map((r) => `#${r.id} ${r.service} ${r.status}${r.reason ? " " + r.reason : ""}`).join(", ");
      refresh();
      return answer;
    }, { reload: false, near });
  } else if (form.matches(".message-form")) {
    const message = { from: fields.from, message: fields.message, ...(fields.gid ? { gid: Number(fields.gid) } : { to: fields.to }) };
    act("send a message", () => backend(token, "message", { message }));
  } else if (form.id === "create-app") {
    act("create an app", async () => {
      const app = await call("/_mock/apps", { method: "POST", body: JSON.stringify({ name: fields.name, ...(fields.token ? { token: fields.token } : {}) }) });
      document.getElementById("new-token-value").value = app.token;
      document.getElementById("new-app-token").hidden = false;
      return app;
    }, { reload: false });
  } else if (form.id === "fault-form") {
    const fault = { error: fields.error, [fields.target]: fields.value, count: "forever" in fields ? null : Number(fields.count) };
    act(`inject ${fields.error}`, () => call("/_mock/faults", { method: "POST", body: JSON.stringify(fault) }), { reload: false }).then(refreshFaults);
  }
});

document.getElementById("copy-token").addEventListener("click", () => {
  const field = document.getElementById("new-token-value");
  field.select();
  if (navigator.clipboard) navigator.clipboard.writeText(field.value).catch(() => document.execCommand("copy"));
  else document.execCommand("copy");
  show("token copied");
});

document.getElementById("freeze").addEventListener("click", (event) => {
  const frozen = event.target.getAttribute("aria-pressed") === "true";
  act(frozen ? "unfreeze the clock" : "freeze the clock", () => call("/_mock/clock", { method: "POST", body: JSON.stringify({ freeze: !frozen }) }));
});
document.getElementById("real-time").addEventListener("click", () => {
  act("back to real time", () => call("/_mock/clock", { method: "POST", body: JSON.stringify({ real: true }) }));
});
document.getElementById("clear-faults").addEventListener("click", () => {
  act("clear the faults", () => call("/_mock/faults", { method: "DELETE" }), { reload: false }).then(refreshFaults);
});

async function refreshFaults() {
  const data = await api("/_mock/faults");
  document.querySelector("#faults tbody").replaceChildren(...data.faults.map((f) =>
    el("tr", { "data-id": f.id }, el("td", {}, f.id), el("td", {}, f.error), el("td", {}, f.service), el("td", {}, f.token ?? ""),
      el("td", {}, f.address ?? ""), el("td", {}, f.push_token ?? ""), el("td", {}, f.count ?? "until removed"),
      el("td", {}, el("button", { type: "button", class: "delete-fault", "data-id": f.id }, "Remove")))));
}
refreshFaults();
