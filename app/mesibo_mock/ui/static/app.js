// The dashboard's live part: tabs, tables kept fresh from the /_mock API, rows that open to their
// details, and the console's actions. Plain JS, no build step, nothing from a CDN.
"use strict";

const adminToken = document.body.dataset.adminToken || "";
const filters = document.getElementById("filters");
const requestFilters = document.getElementById("request-filters");
const expanded = { pushes: new Set(), messages: new Set(), requests: new Set(), deliveries: new Set() };
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

// A table cell that keeps its column's name, so that a narrow window can show each row as a card.
function td(label, ...children) {
  return el("td", { "data-label": label }, ...children);
}

function pretty(value) {
  return value === null || value === undefined ? "null" : JSON.stringify(value, null, 2);
}

function toggle(set, key) {
  if (set.has(key)) set.delete(key); else set.add(key);
  refresh();
}

// --- tabs -------------------------------------------------------------------------------------------
const TABS = [...document.querySelectorAll("[role=tab]")].map((b) => b.dataset.tab);

// The tab in the URL fragment (a link, or the last one chosen, keeps its place across reloads); else
// what happened: Requests once the backend has been called, Apps before.
function activeTab() {
  const wanted = location.hash.slice(1).split("/")[0];
  if (TABS.includes(wanted)) return wanted;
  return TABS.includes(document.body.dataset.firstTab) ? document.body.dataset.firstTab : "apps";
}

// --- app names: every table names the app, with its token on hover -------------------------------------
const appNames = new Map(Object.entries(JSON.parse(document.getElementById("app-names").textContent || "{}")));
const asked = new Set();

function appCell(token) {
  if (!token) return td("app", "");
  const name = appNames.get(token);
  if (name === undefined && !asked.has(token)) {  // an app beyond this page: asked for once
    asked.add(token);
    api(`/_mock/apps/${encodeURIComponent(token)}`).then((app) => {
      if (app && app.name) { appNames.set(token, app.name); refresh(); }
    }).catch(() => {});
  }
  return td("app", el("span", { class: "app-name", title: token }, name ?? token.slice(0, 12) + "…"));
}

// A message's own URL: #messages/{mid} opens the Messages tab with that message's timeline.
function wantedMessage() {
  const [tab, mid] = location.hash.slice(1).split("/");
  return tab === "messages" && /^[0-9]{1,18}$/.test(mid ?? "") ? Number(mid) : null;
}

let scrollTo = null;  // the message a URL asked for, brought into view once it is drawn

function openWantedMessage() {
  const mid = wantedMessage();
  if (mid !== null) { expanded.messages.add(mid); scrollTo = mid; }
}

function showTab(name) {
  for (const tab of TABS) {
    const button = document.getElementById("tab-" + tab);
    button.setAttribute("aria-selected", String(tab === name));
    document.getElementById("panel-" + tab).hidden = tab !== name;
  }
}

document.querySelector("nav.tabs").addEventListener("click", (event) => {
  const button = event.target.closest("[role=tab]");
  if (!button) return;
  history.replaceState(null, "", "#" + button.dataset.tab);
  showTab(button.dataset.tab);
  refresh();
});
window.addEventListener("hashchange", () => { openWantedMessage(); showTab(activeTab()); refresh(); });

// --- pushes -----------------------------------------------------------------------------------------
function query() {
  const params = new URLSearchParams({ limit: "200" });
  for (const [key, value] of new FormData(filters)) if (value) params.set(key, value);
  return params;
}

function pushRow(push) {
  const tr = el("tr", { class: `record status-${push.status}`, "data-id": push.id, id: "push-" + push.id },
    td("#", push.id), td("time", push.ts), td("app", el("span", { class: "app-name", title: push.app }, push.app_name)), td("address", push.address),
    td("service", push.service), td("type", push.push_type), td("kind", push.kind),
    el("td", { class: "status", "data-label": "status" }, push.status, push.injected ? el("span", { class: "tag injected", title: "failed by a fault injected through /_mock/faults" }, "injected") : ""),
    td("reason", push.reason || ""), td("debug", push.debug ? "yes" : ""));
  if (!firstLoad && push.id > newestSeen) tr.classList.add("new");
  tr.addEventListener("click", () => toggle(expanded.pushes, push.id));
  return tr;
}

async function pushDetail(push) {
  const deliveries = (await api(`/_mock/webhooks?push_id=${push.id}`)).deliveries;
  const hooks = deliveries.length
    ? deliveries.map((d) => `attempt ${d.attempt}: ${d.ok ? "ok" : "failed"} ${d.status_code ?? ""} ${d.error ?? ""} (${d.duration_ms} ms)`).join("\n")
    : "no webhook deliveries";
  const links = [];
  if (push.mid !== null && push.mid !== undefined) {
    links.push(el("a", { href: "#messages/" + push.mid, class: "message-link", "data-mid": push.mid }, `from message ${push.mid}`));
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

async function refreshPushes() {
  const data = await api("/_mock/pushes?" + query());
  const rows = [];
  for (const push of data.pushes) {
    rows.push(pushRow(push));
    if (expanded.pushes.has(push.id)) rows.push(await pushDetail(push));
  }
  document.querySelector("#pushes tbody").replaceChildren(...rows);
  document.getElementById("push-count").textContent = `(${data.pushes.length} shown)`;
  if (data.pushes.length) newestSeen = Math.max(newestSeen, data.pushes[0].id);
  firstLoad = false;
}
filters.addEventListener("input", () => refresh());

// --- messages ---------------------------------------------------------------------------------------
function messageRow(message) {
  const to = message.gid ? `group ${message.gid}` : (message.to || []).join(", ");
  const tr = el("tr", { class: "message", id: "message-" + message.mid, "data-mid": message.mid },
    td("mid", message.mid), td("time", message.ts + (message.scheduled ? " (scheduled)" : "")), appCell(message.app), td("from", message.from),
    td("to", to), td("group", message.gid ?? ""), td("message", message.message), td("pushes", message.pushes.length));
  tr.addEventListener("click", () => {
    const opening = !expanded.messages.has(message.mid);
    history.replaceState(null, "", opening ? `#messages/${message.mid}` : "#messages");  // its own URL
    toggle(expanded.messages, message.mid);
  });
  return tr;
}

function seconds(s) {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  return s < 7200 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`;
}

// A message's life on the emulator clock, drawn here: one row per step (the call, each recipient, each
// push with its answer, each webhook event and attempt), a dot on a shared time axis. A large message
// comes as one row per kind, with counts.
function drawTimeline(t) {
  const c = t.counts;
  const count = (parts) => Object.entries(parts).map(([k, n]) => `${n} ${k}`).join(", ") || "none";
  const rows = t.items.map((item) => el("li", { class: `tl-row tl-${item.kind} state-${item.state}`, "data-kind": item.kind, "data-state": item.state },
    el("span", { class: "tl-time" }, "+" + seconds(item.at)),
    el("span", { class: "tl-track", "aria-hidden": "true" },
      el("span", { class: "tl-dot", style: `left: ${t.span > 0 ? (100 * item.at) / t.span : 0}%` })),
    el("span", { class: "tl-kind" }, item.kind),
    el("span", { class: "tl-text" }, item.text)));
  return el("figure", { class: "timeline", "data-timeline": t.mid, "data-detailed": String(t.detailed) },
    el("figcaption", {},
      el("a", { href: `#messages/${t.mid}`, class: "permalink", title: "this message's own URL" }, el("strong", {}, `message ${t.mid}`)), ` from ${t.from} in ${t.app_name ?? t.app}, on the emulator clock from ${t.ts}: `,
      `${c.recipients} recipient${c.recipients === 1 ? "" : "s"} (${c.online} online, ${c.offline} offline); pushes: ${count(c.pushes)}`,
      c.fallbacks ? ` (${c.fallbacks} fallbacks)` : "", `; webhook events: ${count(c.events)}; attempts: ${count(c.attempts)}`,
      t.detailed ? "" : ". Too many recipients to draw one by one: one row per kind."),
    el("ol", {}, ...rows));
}

async function messageDetail(message) {
  const timeline = await api(`/_mock/messages/${message.mid}/timeline`);
  const items = message.pushes.length
    ? message.pushes.map((id) => el("a", { href: "#push-" + id, class: "push-link", "data-push": id }, `push #${id}`))
    : [el("span", { class: "muted" }, "no push: every recipient was online, or has no device")];
  const recipients = message.recipients.map((r) => `${r.address}${r.online ? " (online)" : ""}: ${r.pushes.length ? r.pushes.map((p) => "#" + p).join(" ") : "no push"}`);
  if (message.recipients_total > message.recipients.length) recipients.push(`... and ${message.recipients_total - message.recipients.length} more`);
  return el("tr", { class: "detail", "data-message-detail": message.mid },
    el("td", { colspan: "8" },
      timeline && timeline.items ? drawTimeline(timeline) : el("p", { class: "muted" }, "no timeline: the message is gone"),
      el("h4", {}, "pushes it caused"), el("p", { class: "links" }, ...items.flatMap((a) => [a, " "])),
      el("h4", {}, "recipients"), el("pre", {}, recipients.join("\n") || "none yet"),
      message.skipped.length ? el("p", { class: "warning" }, "skipped (not active users): " + message.skipped.join(", ")) : ""));
}

async function refreshMessages() {
  const token = new FormData(filters).get("token");
  const params = new URLSearchParams({ limit: "100" });
  if (token) params.set("token", token);
  const data = await api("/_mock/messages?" + params);
  const wanted = wantedMessage();
  if (wanted !== null && !data.messages.some((m) => m.mid === wanted)) {  // older than this page: fetched alone
    const alone = await api(`/_mock/messages/${wanted}`).catch(() => null);
    if (alone && alone.mid) data.messages.unshift(alone);
  }
  const rows = [];
  for (const message of data.messages) {
    rows.push(messageRow(message));
    if (expanded.messages.has(message.mid)) rows.push(await messageDetail(message));
  }
  document.querySelector("#messages tbody").replaceChildren(...rows);
  document.getElementById("message-count").textContent = `(${data.messages.length} shown)`;
  if (scrollTo !== null) {
    const row = document.getElementById("message-" + scrollTo);
    if (row) { row.classList.add("focus"); row.scrollIntoView({ block: "start" }); }
    scrollTo = null;
  }
}

// --- requests (the journal) -----------------------------------------------------------------------------
function diagnosisText(notes) {
  return notes.map((n) => (n.field ? `'${n.field}' ` : "") + n.problem + (n.hint ? ` (${n.hint})` : "")).join("; ");
}

function requestRow(entry) {
  const answer = entry.answer;
  const refused = answer.result === false || "http" in answer;
  const mistakes = entry.diagnosis.filter((n) => n.kind !== "not emulated" && n.kind !== "info");
  const state = "http" in answer ? `HTTP ${answer.http}` : answer.result ? "ok" : `${answer.error} ${answer.code}`;
  const tr = el("tr", { class: "request" + (refused ? " refused" : "") + (mistakes.length ? " diagnosed" : ""), "data-id": entry.id },
    td("#", entry.id), td("time", entry.ts), td("op", entry.op ?? "(none)"), appCell(entry.app),
    td("how", `${entry.encoding} ${entry.path}`),
    td("answer", refused ? el("span", { class: "tag refused" }, state) : state, entry.fault ? el("span", { class: "tag injected" }, "fault") : ""),
    td("diagnosis", mistakes.length ? el("span", { class: "tag diagnosed" }, diagnosisText(mistakes)) : ""));
  tr.addEventListener("click", () => toggle(expanded.requests, entry.id));
  return tr;
}

function requestDetail(entry) {
  const notes = entry.diagnosis.length
    ? el("ul", { class: "diagnosis" }, ...entry.diagnosis.map((n) => el("li", { class: "note-" + n.kind.replace(/ /g, "-") },
        el("span", { class: "tag" }, n.kind), " ", n.field ? el("code", {}, n.field) : "", " ", n.problem, n.hint ? el("strong", {}, " " + n.hint) : "")))
    : el("p", { class: "muted" }, "nothing to say: the call was read as sent");
  return el("tr", { class: "detail", "data-request-detail": entry.id },
    el("td", { colspan: "7" },
      el("h4", {}, "diagnosis"), notes,
      el("div", { class: "detail-grid" },
        el("div", {}, el("h4", {}, "what was read (" + entry.encoding + ")"), el("pre", { class: "fields" }, pretty(entry.fields))),
        el("div", {}, el("h4", {}, "the answer, as sent"), el("pre", { class: "answer" }, pretty(entry.answer)))),
      entry.pushes.length ? el("p", { class: "links" }, "pushes: ", ...entry.pushes.flatMap((id) => [el("a", { href: "#push-" + id, class: "push-link", "data-push": id }, `#${id}`), " "])) : ""));
}

async function refreshRequests() {
  const params = new URLSearchParams({ limit: "100" });
  if (new FormData(requestFilters).get("diagnosed")) params.set("diagnosed", "true");
  const data = await api("/_mock/requests?" + params);
  const rows = [];
  for (const entry of data.requests) {
    rows.push(requestRow(entry));
    if (expanded.requests.has(entry.id)) rows.push(requestDetail(entry));
  }
  document.querySelector("#requests tbody").replaceChildren(...rows);
  document.getElementById("request-count").textContent = `(${data.requests.length} shown)`;
}
requestFilters.addEventListener("change", () => refresh());

// --- webhook deliveries and their events -------------------------------------------------------------
function deliveryRow(d) {
  const tr = el("tr", { class: `delivery state-${d.state}`, "data-id": d.id },
    td("#", `${d.id} (id ${d.webhook_id})`), td("created", d.created), appCell(d.token), td("to", d.url),
    td("events", d.kinds.join(", ")),
    td("state", d.state, d.note ? el("span", { class: "warning", title: d.note }, " not https") : ""), td("attempts", d.attempts));
  tr.addEventListener("click", () => toggle(expanded.deliveries, d.id));
  return tr;
}

async function deliveryDetail(d) {
  const [events, attempts] = await Promise.all([api(`/_mock/events?delivery=${d.id}&limit=1000`), api(`/_mock/webhooks?delivery=${d.id}`)]);
  const tried = attempts.deliveries.map((a) => `attempt ${a.attempt}: ${a.ok ? "MESIBO OK" : a.error} (${a.duration_ms} ms)`).join("\n") || "not tried yet";
  return el("tr", { class: "detail", "data-delivery-detail": d.id },
    el("td", { colspan: "7" },
      d.note ? el("p", { class: "warning" }, d.note) : "",
      el("h4", {}, "attempts"), el("pre", { class: "attempts" }, tried),
      el("h4", {}, "events"), el("pre", { class: "events" }, pretty(events.events.reverse().map(({ id, delivery, app, ts, ...event }) => event)))));
}

async function refreshDeliveries() {
  const data = await api("/_mock/deliveries?limit=100");
  const rows = [];
  for (const d of data.deliveries) {
    rows.push(deliveryRow(d));
    if (expanded.deliveries.has(d.id)) rows.push(await deliveryDetail(d));
  }
  document.querySelector("#deliveries tbody").replaceChildren(...rows);
  document.getElementById("delivery-count").textContent = `(${data.deliveries.length} shown)`;
}

// --- faults -----------------------------------------------------------------------------------------
async function refreshFaults() {
  const [push, backend] = await Promise.all([api("/_mock/faults"), api("/_mock/backend-faults")]);
  document.querySelector("#faults tbody").replaceChildren(...push.faults.map((f) =>
    el("tr", { "data-id": f.id }, td("#", f.id), td("error", f.error), td("service", f.service), td("app", f.token ?? ""),
      td("address", f.address ?? ""), td("push token", f.push_token ?? ""), td("count left", f.count ?? "until removed"),
      el("td", {}, el("button", { type: "button", class: "delete-fault", "data-id": f.id }, "Remove")))));
  document.querySelector("#backend-faults tbody").replaceChildren(...backend.faults.map((f) =>
    el("tr", { "data-id": f.id }, td("#", f.id), td("op", f.op ?? "any"), td("app", f.token ?? "any"),
      td("answer", f.error ?? (f.http ? `HTTP ${f.http}` : "as usual")), td("delay", f.delay ? `${f.delay} s` : ""),
      td("count left", f.count ?? "until removed"),
      el("td", {}, el("button", { type: "button", class: "delete-backend-fault", "data-id": f.id }, "Remove")))));
}

// --- the clock and the live refresh -------------------------------------------------------------------
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

const REFRESH = { pushes: refreshPushes, messages: refreshMessages, requests: refreshRequests, events: refreshDeliveries, faults: refreshFaults };

async function refresh() {
  const clock = await api("/_mock/clock");
  document.getElementById("clock").textContent = clock.now;
  clockNote(clock);
  const refreshTab = REFRESH[activeTab()];
  if (refreshTab) await refreshTab();
  document.body.dataset.refreshed = String(Date.now());  // the page's data is in (tests wait for it)
}

document.getElementById("advance").addEventListener("click", async () => {
  const seconds = Number(document.getElementById("advance-amount").value || 0) * Number(document.getElementById("advance-unit").value);
  await act("advance the clock", () => call("/_mock/clock", { method: "POST", body: JSON.stringify({ advance: seconds }) }));
});
document.getElementById("clear-pushes").addEventListener("click", async () => {
  await api("/_mock/pushes", { method: "DELETE" });
  expanded.pushes.clear();
  refresh();
});
document.getElementById("reset").addEventListener("click", async () => {
  if (!confirm("Wipe everything and re-apply the seed?")) return;
  await act("reset", () => call("/_mock/reset", { method: "POST", body: "{}" }));
});

// The first view goes into the URL too: a reload (as every console action does) stays on it.
if (!TABS.includes(location.hash.slice(1).split("/")[0])) history.replaceState(null, "", "#" + activeTab());
openWantedMessage();
showTab(activeTab());
refresh();
setInterval(() => refresh().catch(() => {}), 1000);

// A link to a push or a message opens it in its table, on its tab.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.push-link, a.follows-link, a.message-link");
  if (!link) return;
  event.preventDefault();
  let tab = "pushes";
  let target = link.getAttribute("href").slice(1);
  if (link.dataset.push) expanded.pushes.add(Number(link.dataset.push));
  if (link.dataset.mid) {
    expanded.messages.add(Number(link.dataset.mid));
    tab = "messages/" + link.dataset.mid;  // the message's own URL
    target = "message-" + link.dataset.mid;
  }
  history.replaceState(null, "", "#" + tab);
  showTab(activeTab());
  refresh().then(() => {
    target = document.getElementById(target);
    if (target) { target.classList.add("focus"); target.scrollIntoView({ block: "center" }); }
  });
});

// --- the console: every action goes through the same HTTP API a test would use ---------------------
const notice = document.getElementById("notice");

function show(text, kind = "ok") {
  notice.textContent = text;
  notice.className = kind;
  notice.hidden = false;
}

// A refusal is shown with the envelope's error and code and the journal's explanation (or Mesibo's
// cause, or /_mock's detail), never dropped.
async function failure(body, status, journal) {
  if (body && body.error) {
    let why = body.cause;
    if (journal) {
      const params = new URLSearchParams({ limit: "1", token: journal.token, op: journal.op });
      const entry = (await api("/_mock/requests?" + params).catch(() => ({ requests: [] }))).requests[0];
      if (entry && entry.diagnosis.length) why = diagnosisText(entry.diagnosis.filter((n) => n.kind !== "not emulated"));
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

function appToken(node) {
  return node.closest("[data-token]").dataset.token;
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
  } else if (target.matches(".lift-disabled")) {
    act("lift the TOKENBREACH", () => call(`/_mock/apps/${appToken(target)}`, { method: "PUT", body: JSON.stringify({ disabled: false }) }));
  } else if (target.matches(".delete-app")) {
    if (!confirm("Delete this app with its users, groups and credentials?")) return;
    act("delete the app", () => call(`/_mock/apps/${appToken(target)}`, { method: "DELETE" }));
  } else if (target.matches(".toggle-online")) {
    const online = target.dataset.online !== "true";
    const path = `/_mock/apps/${appToken(target)}/users/${encodeURIComponent(target.dataset.address)}/online`;
    act(`set ${target.dataset.address} ${online ? "online" : "offline"}`, () => call(path, { method: "PUT", body: JSON.stringify({ online }) }));
  } else if (target.matches(".delete-fault")) {
    act("remove the fault", () => call(`/_mock/faults/${target.dataset.id}`, { method: "DELETE" }), { reload: false }).then(refreshFaults);
  } else if (target.matches(".delete-backend-fault")) {
    act("remove the backend fault", () => call(`/_mock/backend-faults/${target.dataset.id}`, { method: "DELETE" }), { reload: false }).then(refreshFaults);
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  const token = form.closest("[data-token]") ? appToken(form) : null;
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
  } else if (form.id === "backend-fault-form") {
    const [kind, value] = fields.answer.split(":");
    const fault = { count: "forever" in fields ? null : Number(fields.count) };
    if (fields.op) fault.op = fields.op;
    if (fields.token) fault.token = fields.token;
    if (kind === "error") fault.error = value;
    if (kind === "http") fault.http = Number(value);
    if (Number(fields.delay) > 0 || kind === "delay") fault.delay = Number(fields.delay);
    act(`set a backend fault (${fields.answer})`, () => call("/_mock/backend-faults", { method: "POST", body: JSON.stringify(fault) }), { reload: false, near }).then(refreshFaults);
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
document.getElementById("clear-backend-faults").addEventListener("click", () => {
  act("clear the backend faults", () => call("/_mock/backend-faults", { method: "DELETE" }), { reload: false }).then(refreshFaults);
});
