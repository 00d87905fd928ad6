// The dashboard's live part: poll /_mock/pushes, render rows, expand a row to its request, response and
// webhook deliveries. Plain JS, no build step, nothing from a CDN.
"use strict";

const adminToken = document.body.dataset.adminToken || "";
const tbody = document.querySelector("#pushes tbody");
const filters = document.getElementById("filters");
const expanded = new Set();
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
  const tr = el("tr", { class: `record status-${push.status}`, "data-id": push.id },
    el("td", {}, push.id), el("td", {}, push.ts), el("td", {}, push.app_name), el("td", {}, push.address),
    el("td", {}, push.service), el("td", {}, push.push_type), el("td", {}, push.kind),
    el("td", { class: "status" }, push.status), el("td", {}, push.reason || ""), el("td", {}, push.debug ? "yes" : ""));
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
  return el("tr", { class: "detail", "data-detail": push.id },
    el("td", { colspan: "10" },
      el("div", { class: "detail-grid" },
        el("div", {}, el("h4", {}, "request"), el("pre", { class: "request" }, pretty(push.request))),
        el("div", {}, el("h4", {}, "response"), el("pre", { class: "response" }, pretty(push.response)))),
      el("h4", {}, "webhook deliveries"), el("pre", { class: "webhooks" }, hooks)));
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
  const clock = await api("/_mock/clock");
  document.getElementById("clock").textContent = clock.now;
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
