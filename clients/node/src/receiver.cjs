"use strict";
// A local HTTP receiver that answers `MESIBO OK`, as Mesibo wants, and records every POST: a test points
// an app's webhook at it and asserts on what its own backend would receive.

const http = require("node:http");
const { MesiboMockError } = require("./errors.cjs");

const MAX_BODY = 1 << 20; // a POST past 1 MiB is answered 413, unread: a test's receiver never holds more

class WebhookReceiver {
  constructor(server, url) {
    this.server = server;
    this.url = url;
    this.posts = [];
    this.waiters = new Set();
  }

  static start() {
    return new Promise((resolve, reject) => {
      let receiver;
      const server = http.createServer((request, response) => {
        const declared = Number(request.headers["content-length"] ?? 0);
        if (declared > MAX_BODY) return refuse(response, 413);
        const chunks = [];
        let size = 0;
        request.on("data", (chunk) => {
          size += chunk.length;
          if (size > MAX_BODY) {
            request.removeAllListeners("data");
            request.removeAllListeners("end");
            refuse(response, 413);
            request.destroy();
            return;
          }
          chunks.push(chunk);
        });
        request.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          let body;
          try {
            body = JSON.parse(raw);
          } catch {
            body = { unreadable: raw.slice(0, 200) };
          }
          receiver.posts.push(body);
          for (const wake of receiver.waiters) wake();
          response.writeHead(200, { "content-type": "text/plain", "content-length": 9 });
          response.end("MESIBO OK");
        });
      });
      server.on("error", reject);
      server.listen(0, "127.0.0.1", () => {
        receiver = new WebhookReceiver(server, `http://127.0.0.1:${server.address().port}/mesibo-webhook`);
        server.unref();
        resolve(receiver);
      });
    });
  }

  /** Every event received, oldest first; `type`: only user, message or push events. */
  events(type) {
    const found = this.posts.flatMap((post) => post.events ?? []);
    return type ? found.filter((event) => event.type === type) : found;
  }

  /** Resolves once at least `count` matching events have arrived (oldest first). */
  waitForEvents({ count = 1, type, timeout = 10 } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events(type);
        if (found.length < count) return false;
        done();
        resolve(found);
        return true;
      };
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const timer = setTimeout(() => {
        done();
        reject(new MesiboMockError(`the webhook received ${this.events(type).length} ${type ?? ""} event(s), expected ${count}`));
      }, timeout * 1000);
      this.waiters.add(check);
      check();
    });
  }

  clear() {
    this.posts.length = 0;
  }

  close() {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }
}

function refuse(response, status) {
  if (response.headersSent) return;
  response.writeHead(status, { "content-type": "text/plain", connection: "close" });
  response.end(status === 413 ? "a webhook POST is at most 1 MiB" : "");
}

module.exports = { WebhookReceiver, MAX_BODY };
