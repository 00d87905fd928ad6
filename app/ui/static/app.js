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
    el("td", {}, message.mid), el("td", {}, message.ts), el("td", {}, message.from), el("td", {}, message.to ?? ""),
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
  const seconds = Number(document.getElementById("advance-seconds").value || 0);
  await api("/_mock/clock", { method: "POST", body: JSON.stringify({ advance: seconds }) });
  location.reload();
});
document.getElementById("clear-pushes").addEventListener("click", async () => {
  await api("/_mock/pushes", { method: "DELETE" });
  expanded.clear();
  refresh();
});
document.getElementById("reset").addEventListener("click", async () => {
  if (!confirm("Wipe everything and re-apply the seed?")) return;
  await api("/_mock/reset", { method: "POST" });
  location.reload();
});

refresh();
setInterval(() => refresh().catch(() => {}), 1000);
