package io.github.mesibomock;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The helpers every client of mesibo-mock shares (docs/clients.md holds the table, and a test holds
 * Python, Node, PHP and Java to it), acting on one app: MesiboMock's on its own app (`default`, or the
 * app token given to connect), MesiboApp's on an app of a test's own. A list or a clearing takes
 * {@code Options.none().allApps()} to act on every app. Records are Jackson {@link JsonNode}s, the
 * server's own JSON.
 */
public abstract class Helpers {
    private static final double MAX_WAIT_SECONDS = 60; // the server's longest long-poll; a longer wait is several
    private static final SecureRandom RANDOM = new SecureRandom();

    final Http http;
    final String token;
    final List<WebhookReceiver> receivers = new ArrayList<>();
    String mistakesSeen; // where the findings a test read with mistakes() end

    Helpers(Http http, String token) {
        this.http = http;
        this.token = token;
    }

    /** Where the server listens. */
    public String url() {
        return http.url();
    }

    /** The URL the code under test calls instead of https://api.mesibo.com/backend. */
    public String backendUrl() {
        return http.url() + "/backend";
    }

    /** The app's token, for the code under test. */
    public String token() {
        return token;
    }

    /** The same token, by the name MesiboMock used first. */
    public String appToken() {
        return token;
    }

    String appPath(String rest) {
        return "/_mock/apps/" + Http.encode(token) + rest;
    }

    /** The query of a list or a clearing: this app's, unless allApps or a token is given. */
    Map<String, Object> scope(Options options) {
        Map<String, Object> query = new LinkedHashMap<>(options.values);
        if (!options.allApps) {
            query.putIfAbsent("token", token);
        }
        return query;
    }

    static List<JsonNode> list(JsonNode answer, String key) {
        List<JsonNode> found = new ArrayList<>();
        answer.get(key).forEach(found::add);
        return found;
    }

    // --- the Mesibo backend ----------------------------------------------------------------------------
    /** POST one op as JSON with this app's token; Mesibo's envelope (result true or false). */
    public JsonNode backend(String op) {
        return backend(op, Map.of());
    }

    public JsonNode backend(String op, Map<String, ?> fields) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("op", op);
        body.put("token", token);
        body.putAll(fields);
        return http.json("POST", "/backend", null, body);
    }

    /** A real multipart pushupload of a credential file (.json for FCM, .p12 or .p8 for APNs). */
    public JsonNode uploadCredential(Path file) {
        try {
            return uploadCredential(Files.readAllBytes(file), null, file.getFileName().toString());
        } catch (IOException error) {
            throw new MesiboMockError("cannot read " + file + ": " + error.getMessage());
        }
    }

    /** The same with the file's bytes; `type` is "fcm" or "apn". */
    public JsonNode uploadCredential(byte[] content, String type) {
        String name = "fcm".equalsIgnoreCase(type) ? "credential.json" : "apn".equalsIgnoreCase(type) ? "credential.p12" : null;
        if (name == null) {
            throw new MesiboMockError("give the type, \"fcm\" or \"apn\", with credential bytes");
        }
        return uploadCredential(content, type, name);
    }

    private JsonNode uploadCredential(byte[] content, String type, String filename) {
        String boundary = "mesibo-mock-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("op", "pushupload");
        fields.put("token", token);
        if (type != null) {
            fields.put("type", type);
        }
        fields.forEach((key, value) -> write(body, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + key + "\"\r\n\r\n" + value + "\r\n"));
        write(body, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        body.writeBytes(content);
        write(body, "\r\n--" + boundary + "--\r\n");
        byte[] answer = http.bytes("POST", "/backend", null, body.toByteArray(), 30, "multipart/form-data; boundary=" + boundary);
        try {
            return Http.JSON.readTree(answer);
        } catch (IOException error) {
            throw new MesiboMockError("pushupload: the answer is not JSON: " + error.getMessage());
        }
    }

    private static void write(ByteArrayOutputStream out, String text) {
        out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    public JsonNode pushdebug() {
        return backend("pushdebug", Map.of("push", Map.of()));
    }

    public JsonNode pushdebug(int duration) {
        return backend("pushdebug", Map.of("push", Map.of("duration", duration)));
    }

    /** Send a message as a chat backend would; its mid. */
    public long sendMessage(String from, String to, String message) {
        return sendMessage(from, to, message, Map.of());
    }

    /** The same with more of the message's fields ({@code gid} for a group, with `to` null). */
    public long sendMessage(String from, String to, String message, Map<String, ?> extra) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("from", from);
        body.put("message", message);
        body.putAll(extra);
        if (to != null) {
            body.put("to", to);
        }
        JsonNode answer = backend("message", Map.of("message", body));
        if (!answer.path("result").asBoolean()) {
            throw new MesiboMockError("message refused: " + answer, 200, answer.toString());
        }
        return answer.get("mid").asLong();
    }

    // --- the app, its devices, users and groups ----------------------------------------------------------
    /** The app as GET /_mock/apps/{token} shows it (credentials without keys, options, webhook). */
    public JsonNode app() {
        return http.json("GET", appPath(""), null, null);
    }

    /** Disable the app as Mesibo does on a token breach (every call answers TOKENBREACH), or lift it. */
    public JsonNode setDisabled(boolean disabled) {
        return http.json("PUT", appPath(""), null, Map.of("disabled", disabled));
    }

    /** Empty this app (users, groups, messages, devices, records, journal, faults); keep its token,
     * credentials, options, webhook and UACs. */
    public JsonNode resetApp() {
        return http.json("POST", appPath("/reset"), null, Map.of());
    }

    /** Stand in for Mesibo's SDK on a phone (android, a random FCM token). */
    public JsonNode registerDevice(String address) {
        return registerDevice(address, Options.none());
    }

    /** Options: platform (android, ios), appid, pushToken, voip, sandbox, responds. iOS tokens default
     * to 64 hex digits, as APNs issues them. */
    public JsonNode registerDevice(String address, Options options) {
        Map<String, Object> body = new LinkedHashMap<>(options.values);
        String platform = String.valueOf(body.getOrDefault("platform", "android"));
        body.put("address", address);
        body.put("platform", platform);
        body.putIfAbsent("appid", "com.example.app");
        body.putIfAbsent("push_token", "ios".equals(platform) ? hex(32) : "fcm-" + hex(12));
        return http.json("POST", appPath("/devices"), null, body);
    }

    private static String hex(int bytes) {
        byte[] random = new byte[bytes];
        RANDOM.nextBytes(random);
        StringBuilder text = new StringBuilder();
        for (byte b : random) {
            text.append(String.format("%02x", b));
        }
        return text.toString();
    }

    public List<JsonNode> devices() {
        return devices(null);
    }

    public List<JsonNode> devices(String address) {
        Map<String, Object> query = new LinkedHashMap<>();
        query.put("address", address);
        return list(http.json("GET", appPath("/devices"), query, null), "devices");
    }

    /** Forget a device (its id as registerDevice and devices show it). */
    public void removeDevice(long id) {
        http.json("DELETE", appPath("/devices/" + id), null, null);
    }

    /** Mark a user online (messages reach it without a push). */
    public JsonNode setOnline(String address) {
        return setOnline(address, true);
    }

    public JsonNode setOnline(String address, boolean online) {
        return http.json("PUT", appPath("/users/" + Http.encode(address) + "/online"), null, Map.of("online", online));
    }

    public List<JsonNode> users() {
        return list(http.json("GET", appPath("/users"), null, null), "users");
    }

    public List<JsonNode> groups() {
        return list(http.json("GET", appPath("/groups"), null, null), "groups");
    }

    /** The one-time codes the `otp` op made, newest first (where a real app sends an SMS). */
    public List<JsonNode> otps() {
        return otps(null);
    }

    public List<JsonNode> otps(String address) {
        List<JsonNode> found = new ArrayList<>();
        for (JsonNode otp : list(http.json("GET", "/_mock/otps", Map.of("token", token), null), "otps")) {
            if (address == null || address.equals(otp.get("address").asText())) {
                found.add(otp);
            }
        }
        return found;
    }

    /** One UAC (`uacset`) of the app, whole. */
    public JsonNode uac(long id) {
        return http.json("GET", appPath("/uacs/" + id), null, null);
    }

    // --- what happened: records, newest first; a wait is the server's long-poll with `count` -----------
    private List<JsonNode> records(String route, String key, Options options) {
        return records(route, key, scope(options), 30);
    }

    private List<JsonNode> records(String route, String key, Map<String, Object> query, double timeout) {
        String text = http.text("GET", "/_mock/" + route, query, null, timeout);
        try {
            return list(Http.JSON.readTree(text), key);
        } catch (IOException error) {
            throw new MesiboMockError("GET /_mock/" + route + ": the answer is not JSON");
        }
    }

    private List<JsonNode> waitFor(String route, String key, String what, Options options) {
        long deadline = System.nanoTime() + (long) (options.timeout * 1e9);
        int limit = Math.max(options.count, options.get("limit") instanceof Number ? ((Number) options.get("limit")).intValue() : 100);
        while (true) {
            double remaining = Math.max(0, (deadline - System.nanoTime()) / 1e9);
            double wait = Math.min(remaining, MAX_WAIT_SECONDS);
            Map<String, Object> query = scope(options);
            query.put("limit", limit);
            query.put("count", options.count);
            query.put("wait", String.format(java.util.Locale.ROOT, "%.3f", wait));
            List<JsonNode> found = records(route, key, query, wait + 30);
            if (found.size() >= options.count) {
                return found;
            }
            if (System.nanoTime() >= deadline) {
                throw new MesiboMockError("expected " + options.count + " " + what + " matching " + options + ", found " + found.size());
            }
        }
    }

    public List<JsonNode> pushes() {
        return pushes(Options.none());
    }

    /** This app's push records, newest first; filters: address, pushToken, service, status, kind, mid, after, limit. */
    public List<JsonNode> pushes(Options filters) {
        return records("pushes", "pushes", filters);
    }

    public List<JsonNode> waitForPushes() {
        return waitForPushes(Options.none());
    }

    /** Until `count` push records match (the server's long-poll), newest first. */
    public List<JsonNode> waitForPushes(Options filters) {
        return waitFor("pushes", "pushes", "push(es)", filters);
    }

    public JsonNode push(long id) {
        return http.json("GET", "/_mock/pushes/" + id, null, null);
    }

    /** Mark a push as received by the phone: an acknowledged push needs no fallback. */
    public JsonNode ack(long id) {
        return http.json("POST", "/_mock/pushes/" + id + "/ack", null, Map.of());
    }

    public JsonNode clearPushes() {
        return clearPushes(Options.none());
    }

    public JsonNode clearPushes(Options options) {
        return http.json("DELETE", "/_mock/pushes", scope(options), null);
    }

    public List<JsonNode> messages() {
        return messages(Options.none());
    }

    /** This app's messages, newest first; filters: from, to, gid, after, limit. */
    public List<JsonNode> messages(Options filters) {
        return records("messages", "messages", filters);
    }

    public List<JsonNode> waitForMessages() {
        return waitForMessages(Options.none());
    }

    public List<JsonNode> waitForMessages(Options filters) {
        return waitFor("messages", "messages", "message(s)", filters);
    }

    public JsonNode message(long mid) {
        return http.json("GET", "/_mock/messages/" + mid, null, null);
    }

    /** A message's life on the emulator clock, as the dashboard draws it (`#messages/{mid}`). */
    public JsonNode timeline(long mid) {
        return http.json("GET", "/_mock/messages/" + mid + "/timeline", null, null);
    }

    public List<JsonNode> events() {
        return events(Options.none());
    }

    /** The events sent to the app's webhook, newest first; filters: type (user, message, push), delivery, after, limit. */
    public List<JsonNode> events(Options filters) {
        return records("events", "events", filters);
    }

    public List<JsonNode> waitForEvents() {
        return waitForEvents(Options.none());
    }

    public List<JsonNode> waitForEvents(Options filters) {
        return waitFor("events", "events", "event(s)", filters);
    }

    public List<JsonNode> deliveries() {
        return deliveries(Options.none());
    }

    /** Each POST to the app's webhook (one per request or timer round), newest first, with its state. */
    public List<JsonNode> deliveries(Options filters) {
        return records("deliveries", "deliveries", filters);
    }

    public List<JsonNode> waitForDeliveries() {
        return waitForDeliveries(Options.none());
    }

    public List<JsonNode> waitForDeliveries(Options filters) {
        return waitFor("deliveries", "deliveries", "webhook deliveries", filters);
    }

    public List<JsonNode> webhookAttempts() {
        return webhookAttempts(Options.none());
    }

    /** Every attempt to POST to the app's webhook, newest first, with what went wrong. */
    public List<JsonNode> webhookAttempts(Options filters) {
        return records("webhooks", "deliveries", filters);
    }

    public List<JsonNode> waitForWebhookAttempts() {
        return waitForWebhookAttempts(Options.none());
    }

    public List<JsonNode> waitForWebhookAttempts(Options filters) {
        return waitFor("webhooks", "deliveries", "webhook attempt(s)", filters);
    }

    // --- the request journal and strict mode ---------------------------------------------------------------
    public List<JsonNode> requests() {
        return requests(Options.none());
    }

    /** This app's backend calls as the journal holds them, newest first; filters: op, result, diagnosed, after, before, limit. */
    public List<JsonNode> requests(Options filters) {
        return records("requests", "requests", filters);
    }

    public List<JsonNode> waitForRequests() {
        return waitForRequests(Options.none());
    }

    public List<JsonNode> waitForRequests(Options filters) {
        return waitFor("requests", "requests", "backend call(s)", filters);
    }

    /** One journal entry, whole. */
    public JsonNode request(long id) {
        return http.json("GET", "/_mock/requests/" + id, null, null);
    }

    public JsonNode clearRequests() {
        return clearRequests(Options.none());
    }

    public JsonNode clearRequests(Options options) {
        return http.json("DELETE", "/_mock/requests", scope(options), null);
    }

    /** The newest journal id: pass it as `after` to look only at what comes next. */
    public long lastRequestId() {
        List<JsonNode> newest = requests(Options.none().limit(1));
        return newest.isEmpty() ? 0 : newest.get(0).get("id").asLong();
    }

    public List<JsonNode> mistakes() {
        return mistakes(Options.none());
    }

    /**
     * Strict mode's findings (GET /_mock/mistakes): unknown ops, fields no op reads, webhook deliveries
     * not answered MESIBO OK, each with its text. What a test reads here is expected: strict mode fails
     * it only for later ones.
     */
    public List<JsonNode> mistakes(Options options) {
        JsonNode answer = http.json("GET", "/_mock/mistakes", scope(options), null);
        mistakesSeen = answer.path("seen").asText(null);
        return list(answer, "mistakes");
    }

    /** The text a strict test fails with for the findings; null when there is none. */
    public String mistakesReport() {
        return reportOf(http.json("GET", "/_mock/mistakes", scope(Options.none()), null));
    }

    /** What strict mode fails a test for: the findings the test did not read with mistakes(); null if none. */
    public String unexpectedMistakes() {
        Options options = Options.of("seen", mistakesSeen);
        return reportOf(http.json("GET", "/_mock/mistakes", scope(options), null));
    }

    private static String reportOf(JsonNode answer) {
        JsonNode report = answer.get("report");
        return report == null || report.isNull() ? null : report.asText();
    }

    public String report() {
        return report(Options.none());
    }

    /** What a failed test's report shows: each backend call (after `after`), its answer and diagnosis,
     * then strict mode's findings (GET /_mock/report). */
    public String report(Options options) {
        return http.text("GET", "/_mock/report", scope(options), null, 30);
    }

    // --- steering: faults, the webhook, the clock --------------------------------------------------------
    public JsonNode injectFault(String error) {
        return injectFault(error, Options.none());
    }

    /** Make this app's next pushes fail as FCM or APNs would; options: address, pushToken, count(n) or
     * untilRemoved(). */
    public JsonNode injectFault(String error, Options target) {
        Map<String, Object> body = new LinkedHashMap<>(scope(target));
        body.put("error", error);
        body.put("count", target.faultCount());
        return http.json("POST", "/_mock/faults", null, body);
    }

    public List<JsonNode> faults() {
        return list(http.json("GET", "/_mock/faults", scope(Options.none()), null), "faults");
    }

    public void removeFault(long id) {
        http.json("DELETE", "/_mock/faults/" + id, null, null);
    }

    public JsonNode clearFaults() {
        return http.json("DELETE", "/_mock/faults", scope(Options.none()), null);
    }

    public JsonNode backendFault(String error) {
        return backendFault(error, Options.none());
    }

    /** Make this app's next backend calls answer with a row of Mesibo's error table (`error`), or (with
     * `error` null) a bare HTTP status (option http: 500, 502, 503, 504) or a delay; options: op, http,
     * delay, count(n) (1 by default) or untilRemoved(). */
    public JsonNode backendFault(String error, Options options) {
        Map<String, Object> body = new LinkedHashMap<>(scope(options));
        if (error != null) {
            body.put("error", error);
        }
        body.put("count", options.faultCount());
        return http.json("POST", "/_mock/backend-faults", null, body);
    }

    public List<JsonNode> backendFaults() {
        return list(http.json("GET", "/_mock/backend-faults", scope(Options.none()), null), "faults");
    }

    public void removeBackendFault(long id) {
        http.json("DELETE", "/_mock/backend-faults/" + id, null, null);
    }

    public JsonNode clearBackendFaults() {
        return http.json("DELETE", "/_mock/backend-faults", scope(Options.none()), null);
    }

    public JsonNode setWebhook(String url) {
        return setWebhook(url, Options.none());
    }

    /** Point the app's webhook at `url`; options: secret, events (a list of push, message, user). */
    public JsonNode setWebhook(String url, Options options) {
        Map<String, Object> body = new LinkedHashMap<>(options.values);
        body.put("url", url);
        return http.json("PUT", appPath("/webhook"), null, body);
    }

    /** The app sends no more events (deliveries still pending are cancelled). */
    public void removeWebhook() {
        http.json("DELETE", appPath("/webhook"), null, null);
    }

    public WebhookReceiver webhookReceiver() {
        return webhookReceiver(Options.none());
    }

    /** A local receiver that answers MESIBO OK and records what it gets, set as this app's webhook. */
    public WebhookReceiver webhookReceiver(Options options) {
        WebhookReceiver receiver = WebhookReceiver.start();
        receivers.add(receiver);
        setWebhook(receiver.url(), options);
        return receiver;
    }

    void closeReceivers() {
        receivers.forEach(WebhookReceiver::close);
        receivers.clear();
    }

    /** The server's clock: every app of it sees the same time. */
    public JsonNode clock() {
        return http.json("GET", "/_mock/clock", null, null);
    }

    public JsonNode advance(double seconds) {
        return http.json("POST", "/_mock/clock", null, Map.of("advance", seconds));
    }

    public JsonNode setClock(String iso) {
        return http.json("POST", "/_mock/clock", null, Map.of("set", iso));
    }

    public JsonNode freeze() {
        return freeze(true);
    }

    public JsonNode freeze(boolean frozen) {
        return http.json("POST", "/_mock/clock", null, Map.of("freeze", frozen));
    }

    public JsonNode realTime() {
        return http.json("POST", "/_mock/clock", null, Map.of("real", true));
    }

    public JsonNode health() {
        return http.json("GET", "/_mock/health", null, null);
    }

    public List<JsonNode> samples() {
        return list(http.json("GET", "/_mock/samples", null, null), "samples");
    }

    /** A sample credential file's bytes (fcm.json, apn-universal.p12, ...), as the server makes it. */
    public byte[] sample(String name) {
        return http.bytes("GET", "/_mock/samples/" + Http.encode(name), null, null, 30, null);
    }
}
