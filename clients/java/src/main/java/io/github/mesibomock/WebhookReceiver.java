package io.github.mesibomock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;

/**
 * A local webhook receiver on the JDK's own HttpServer, bound to loopback: it answers `MESIBO OK`, as
 * Mesibo wants, and records every POST (at most 1 MiB each; past that, 413 and nothing recorded), so a
 * test asserts on what its backend's webhook would receive.
 */
public final class WebhookReceiver implements AutoCloseable {
    static final int MAX_BODY = 1 << 20;
    private static final byte[] OK = "MESIBO OK".getBytes(StandardCharsets.US_ASCII);

    private final HttpServer server;
    private final String url;
    private final List<JsonNode> posts = new ArrayList<>();

    private WebhookReceiver(HttpServer server) {
        this.server = server;
        this.url = "http://127.0.0.1:" + server.getAddress().getPort() + "/mesibo-webhook";
    }

    public static WebhookReceiver start() {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException error) {
            throw new MesiboMockError("could not start the webhook receiver: " + error.getMessage());
        }
        WebhookReceiver receiver = new WebhookReceiver(server);
        server.createContext("/", receiver::handle);
        server.setExecutor(Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "mesibo-webhook");
            thread.setDaemon(true);
            return thread;
        }));
        server.start();
        return receiver;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try {
            String declared = exchange.getRequestHeaders().getFirst("Content-Length");
            if (declared != null && Long.parseLong(declared.trim()) > MAX_BODY) {
                refuse(exchange);
                return;
            }
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readNBytes(MAX_BODY + 1);
            }
            if (body.length > MAX_BODY) {
                refuse(exchange);
                return;
            }
            JsonNode post;
            try {
                post = Http.JSON.readTree(body);
            } catch (IOException unreadable) {
                String text = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8);
                post = JsonNodeFactory.instance.objectNode().put("unreadable", text);
            }
            synchronized (posts) {
                posts.add(post);
                posts.notifyAll();
            }
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, OK.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(OK);
            }
        } catch (NumberFormatException badLength) {
            exchange.sendResponseHeaders(400, -1);
        } finally {
            exchange.close();
        }
    }

    private static void refuse(HttpExchange exchange) throws IOException {
        byte[] said = "a webhook POST is at most 1 MiB".getBytes(StandardCharsets.US_ASCII);
        exchange.getResponseHeaders().set("Connection", "close");
        exchange.sendResponseHeaders(413, said.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(said);
        }
    }

    /** Where it listens: the app's webhook. */
    public String url() {
        return url;
    }

    /** Every POST body received, oldest first: Mesibo's v2 envelope. */
    public List<JsonNode> posts() {
        synchronized (posts) {
            return new ArrayList<>(posts);
        }
    }

    /** Every event received, oldest first. */
    public List<JsonNode> events() {
        return events(null);
    }

    /** Every event of this type (user, message, push) received, oldest first. */
    public List<JsonNode> events(String type) {
        List<JsonNode> found = new ArrayList<>();
        for (JsonNode post : posts()) {
            for (JsonNode event : post.path("events")) {
                if (type == null || type.equals(event.path("type").asText())) {
                    found.add(event);
                }
            }
        }
        return found;
    }

    public List<JsonNode> waitForEvents() {
        return waitForEvents(Options.none());
    }

    /** Until `count` events (of option `type`) came, within `timeout` seconds; oldest first. */
    public List<JsonNode> waitForEvents(Options options) {
        String type = options.get("type") == null ? null : String.valueOf(options.get("type"));
        long deadline = System.nanoTime() + (long) (options.timeout * 1e9);
        synchronized (posts) {
            while (true) {
                List<JsonNode> found = events(type);
                if (found.size() >= options.count) {
                    return found;
                }
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new MesiboMockError("the webhook received " + found.size() + " " + (type == null ? "" : type + " ")
                            + "event(s), expected " + options.count);
                }
                try {
                    posts.wait(left);
                } catch (InterruptedException error) {
                    Thread.currentThread().interrupt();
                    throw new MesiboMockError("interrupted while waiting for webhook events");
                }
            }
        }
    }

    /** Forget what came. */
    public void clear() {
        synchronized (posts) {
            posts.clear();
        }
    }

    /** Stop listening. */
    @Override
    public void close() {
        server.stop(0);
    }
}
