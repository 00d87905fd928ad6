package io.github.mesibomock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The client against a real server: start, app objects, every helper the table names, strict mode. */
class MesiboMockTest {
    static MesiboMock mock;

    @BeforeAll
    static void start() {
        mock = MesiboMock.start();
    }

    @AfterAll
    static void stop() {
        mock.stop();
    }

    static List<String> texts(List<JsonNode> records, String field) {
        return records.stream().map(r -> r.path(field).asText()).collect(Collectors.toList());
    }

    @Test
    void startReadsTheReadyFileAndTheDefaultApp() {
        assertTrue(mock.url().matches("http://127\\.0\\.0\\.1:\\d+"), mock.url());
        assertEquals(mock.url() + "/backend", mock.backendUrl());
        assertEquals(MesiboMock.DEFAULT_APP_TOKEN, mock.appToken());
        assertEquals("ok", mock.health().get("status").asText());
        assertEquals("default", mock.app().get("name").asText());
    }

    @Test
    void anAppOfItsOwnScopesEveryHelperAndAllAppsReadsEvery() {
        try (MesiboApp app = mock.createApp(Options.of("credentials", "sample"))) {
            assertNotEquals(mock.token(), app.token());
            assertEquals("mesibo-mock-demo", app.view().at("/credentials/fcm/project_id").asText());
            app.registerDevice("ann");
            app.registerDevice("ann", Options.of("platform", "ios"));
            assertTrue(app.backend("pushtest", Map.of("push", Map.of("address", "ann"))).get("result").asBoolean());
            List<JsonNode> pushes = app.waitForPushes(Options.of("address", "ann").count(2));
            assertEquals(List.of("apn", "fcm"), texts(pushes, "service").stream().sorted().collect(Collectors.toList()));
            assertEquals(List.of(), mock.pushes());
            List<String> everyApps = texts(mock.pushes(Options.none().allApps()), "app");
            assertEquals(2, everyApps.stream().filter(app.token()::equals).count(), everyApps.toString());
            app.clearPushes();
            assertEquals(0, app.pushes().size());
        }
    }

    @Test
    void anOfflineUsersMessageBecomesAnFcmPushWithItsText() {
        try (MesiboApp app = mock.createApp(Options.of("credentials", "sample"))) {
            for (String user : List.of("ann", "bob")) {
                app.backend("useradd", Map.of("user", Map.of("address", user)));
            }
            app.registerDevice("bob", Options.of("pushToken", "fcm-bob"));
            long mid = app.sendMessage("ann", "bob", "are you there?");
            JsonNode push = app.waitForPushes(Options.of("mid", mid)).get(0);
            assertEquals("fcm-bob", push.at("/request/body/message/token").asText());
            assertEquals("are you there?", push.at("/request/body/message/data/body").asText());
            List<String> kinds = new ArrayList<>();
            app.timeline(mid).get("items").forEach(item -> kinds.add(item.get("kind").asText()));
            assertTrue(kinds.contains("call") && kinds.contains("push"), kinds.toString());
            assertEquals(mid, app.waitForMessages().get(0).get("mid").asLong());
            assertEquals("are you there?", app.message(mid).get("message").asText());
        }
    }

    @Test
    void faultsAreTheAppsOwnListedRemovedAndLastTheirCount() {
        try (MesiboApp app = mock.createApp(Options.of("credentials", "sample"))) {
            app.registerDevice("ann");
            JsonNode fault = app.injectFault("UNREGISTERED", Options.none().count(2));
            assertEquals(1, app.faults().size());
            assertEquals(0, mock.faults().size());
            for (int i = 0; i < 3; i++) {
                app.backend("pushtest", Map.of("push", Map.of("address", "ann")));
            }
            List<JsonNode> pushes = app.waitForPushes(Options.none().count(3));
            assertEquals(List.of("false", "true", "true"), texts(pushes, "injected"));
            assertEquals(0, app.faults().size()); // used up
            JsonNode held = app.backendFault("QUOTAEXCEEDED", Options.of("op", "usersget").untilRemoved());
            assertTrue(mock.backend("usersget").get("result").asBoolean());
            assertEquals("QUOTAEXCEEDED", app.backend("usersget").get("error").asText());
            assertEquals(held.get("id").asLong(), app.backendFaults().get(0).get("id").asLong());
            app.removeBackendFault(held.get("id").asLong());
            assertTrue(app.backend("usersget").get("result").asBoolean());
            app.backendFault("QUOTAEXCEEDED", Options.none().untilRemoved());
            app.clearBackendFaults();
            assertEquals(0, app.backendFaults().size());
            JsonNode other = app.injectFault("UNREGISTERED", Options.none().untilRemoved());
            app.removeFault(other.get("id").asLong());
            app.injectFault("UNREGISTERED");
            app.clearFaults();
            assertEquals(0, app.faults().size());
            assertTrue(fault.get("id").asLong() > 0);
        }
    }

    @Test
    void theRoutesEveryClientWraps() {
        try (MesiboApp app = mock.createApp(Options.of("credentials", "sample"))) {
            app.backend("useradd", Map.of("user", Map.of("address", "ann")));
            JsonNode entry = app.requests(Options.of("op", "useradd")).get(0);
            assertEquals("ann", app.request(entry.get("id").asLong()).at("/fields/user/address").asText());
            assertEquals(entry.get("id").asLong(), app.lastRequestId());
            assertEquals(1, app.clearRequests().get("deleted").asInt());
            app.backend("otp", Map.of("otp", Map.of("address", "ann")));
            assertEquals(6, app.otps("ann").get(0).get("otp").asText().length());
            long uac = app.backend("uacset", Map.of("uac", Map.of("name", "admin"))).at("/uac/id").asLong();
            assertEquals("admin", app.uac(uac).get("name").asText());
            app.setDisabled(true);
            assertEquals("TOKENBREACH", app.backend("usersget").get("error").asText());
            app.setDisabled(false);
            JsonNode device = app.registerDevice("ann");
            app.removeDevice(device.get("id").asLong());
            assertEquals(0, app.devices().size());
            WebhookReceiver hook = app.webhookReceiver();
            app.setOnline("ann");
            assertTrue(List.of("pending", "delivered").contains(app.waitForDeliveries().get(0).get("state").asText()));
            assertTrue(app.waitForWebhookAttempts().get(0).get("ok").asBoolean());
            assertEquals("online", hook.waitForEvents().get(0).get("status").asText());
            assertEquals(1, app.waitForEvents(Options.of("type", "user")).size());
            app.removeWebhook();
            assertTrue(app.app().get("webhook").isNull());
            assertTrue(app.resetApp().get("cleared").asInt() > 0);
            assertEquals(0, app.users().size());
            assertFalse(app.app().at("/credentials/fcm").isNull()); // kept
        }
    }

    @Test
    void strictModeNamesATypoAndAFindingTheTestReadIsExpected() {
        MesiboApp typo = mock.createApp(Options.of("strict", true));
        typo.backend("pushset", Map.of("push", Map.of("sounds", true)));
        MesiboMockError error = assertThrows(MesiboMockError.class, typo::close);
        assertTrue(error.getMessage().startsWith("mesibo-mock strict mode: 1 backend call mistake(s)"), error.getMessage());
        assertTrue(error.getMessage().contains("did you mean 'push.sound'?"), error.getMessage());
        MesiboApp expecting = mock.createApp(Options.of("strict", true));
        expecting.backend("pushset", Map.of("push", Map.of("sounds", true)));
        assertEquals("push.sounds", expecting.mistakes().get(0).get("field").asText());
        expecting.close(); // read, so expected
        try (MesiboApp app = mock.createApp()) {
            app.backend("useradd", Map.of("user", Map.of("address", "ann", "nmae", "Ann")));
            String report = app.report();
            assertTrue(report.contains("op=useradd (json) -> ok") && report.contains("'user.nmae'"), report);
            assertTrue(app.mistakesReport().contains("user.nmae"));
        }
    }

    @Test
    void aWebhookHandlerThatForgetsMesiboOkIsAStrictFinding() throws IOException {
        HttpServer handler = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        handler.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            byte[] ok = "ok".getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(200, ok.length);
            exchange.getResponseBody().write(ok);
            exchange.close();
        });
        handler.start();
        try {
            MesiboApp app = mock.createApp(Options.of("strict", true));
            app.setWebhook("http://127.0.0.1:" + handler.getAddress().getPort() + "/hook");
            app.setOnline("ann");
            app.waitForWebhookAttempts();
            MesiboMockError error = assertThrows(MesiboMockError.class, app::close);
            assertTrue(error.getMessage().contains("webhook delivery #1 attempt 1: the webhook handler"), error.getMessage());
        } finally {
            handler.stop(0);
        }
    }

    @Test
    void aReceiverAnswersMesiboOkAnd413PastOneMebibyte() throws Exception {
        HttpClient client = HttpClient.newHttpClient(); // as a Java backend calls: it offers h2c
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            HttpResponse<String> ok = client.send(HttpRequest.newBuilder(URI.create(receiver.url()))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"events\":[{\"type\":\"user\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode());
            assertEquals("MESIBO OK", ok.body());
            // past 1 MiB: answered 413 before a byte of the body is read (a raw socket sees it; a client
            // still writing the body may see the connection close instead)
            URI at = URI.create(receiver.url());
            try (Socket socket = new Socket(at.getHost(), at.getPort())) {
                String head = "POST " + at.getPath() + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + ((1 << 20) + 1) + "\r\n\r\n";
                socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
                String status = new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
                assertEquals("HTTP/1.1 413", status);
            }
            assertEquals(1, receiver.posts().size());
            assertEquals("user", receiver.events("user").get(0).get("type").asText());
            receiver.clear();
            assertEquals(0, receiver.events().size());
        }
    }

    @Test
    void connectAttachesToABackendUrlAndAnHttpErrorCarriesItsStatus() {
        MesiboMock attached = MesiboMock.connect(mock.backendUrl());
        assertEquals(mock.url(), attached.url());
        assertEquals(mock.appToken(), attached.appToken());
        MesiboMockError error = assertThrows(MesiboMockError.class, () -> mock.push(987654321L));
        assertEquals(404, error.status());
        assertTrue(error.body().contains("987654321"));
        MesiboMockError gone = assertThrows(MesiboMockError.class, () -> MesiboMock.connect("http://127.0.0.1:9"));
        assertTrue(gone.getMessage().contains("cannot reach mesibo-mock"));
        assertNull(gone.status());
        MesiboMockError timeout = assertThrows(MesiboMockError.class, () -> mock.waitForPushes(Options.of("address", "nobody").timeout(0.3)));
        assertTrue(timeout.getMessage().contains("expected 1 push(es)"), timeout.getMessage());
    }

    @Test
    void samplesAndUploads() throws IOException {
        try (MesiboApp app = mock.createApp()) {
            byte[] p12 = app.sample("apn-development.p12");
            assertTrue(app.uploadCredential(p12, "apn").at("/push/sandbox").asBoolean());
            Path file = Files.createTempFile("sa", ".json");
            Files.write(file, app.sample("fcm.json"));
            assertEquals("fcm", app.uploadCredential(file).at("/push/type").asText());
            Files.delete(file);
            assertTrue(texts(app.samples(), "name").contains("apn-key.p8"));
        }
    }

    @Test
    void theClockMovesInsteadOfSleeping() {
        try (MesiboApp app = mock.createApp(Options.of("credentials", "sample"))) {
            app.registerDevice("1", Options.of("responds", false));
            app.backend("pushtest", Map.of("push", Map.of("address", "1")));
            app.advance(30);
            assertEquals("alert", app.waitForPushes(Options.of("kind", "fallback")).get(0).get("push_type").asText());
            app.freeze();
            assertTrue(app.clock().get("frozen").asBoolean());
            app.realTime();
        }
    }

    @Test
    void whenNoServerCanBeFoundTheErrorNamesEveryPlace() throws Exception {
        Path empty = Files.createTempDirectory("mesibo-empty-");
        { // a JVM of its own, without MESIBO_MOCK_BIN (CI sets it) and with a PATH that has no server
            ProcessBuilder child = new ProcessBuilder(javaCommand("io.github.mesibomock.FinderProbe")).directory(empty.toFile());
            child.environment().remove("MESIBO_MOCK_BIN");
            child.environment().remove("MESIBO_MOCK_URL");
            child.environment().put("PATH", "/usr/bin:/bin");
            Process process = child.redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            process.waitFor();
            assertTrue(out.contains("mesibo-mock could not be started. Tried:"), out);
            assertTrue(out.contains("MESIBO_MOCK_BIN (not set)"), out);
            assertTrue(out.contains("mesibo-mock on PATH (not found)"), out);
            assertTrue(out.contains(".venv/bin/mesibo-mock in " + empty.toRealPath() + " and its parents (not found)")
                    || out.contains(".venv/bin/mesibo-mock in " + empty + " and its parents (not found)"), out);
            assertTrue(out.matches("(?s).*python3 -m mesibo_mock \\(exited with status 1: .*No module named mesibo_mock.*"), out);
            assertTrue(out.contains("python3 -m venv .venv && .venv/bin/pip install"), out);
        }
        Files.delete(empty);
    }

    @Test
    void aServerEndsWhenItsTestProcessIsKilled() throws Exception {
        Process child = new ProcessBuilder(javaCommand("io.github.mesibomock.StartProbe")).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertTrue(line.startsWith("URL http://127.0.0.1:"), line);
        String url = line.substring(4).trim();
        assertEquals("ok", MesiboMock.connect(url).health().get("status").asText());
        child.destroyForcibly(); // SIGKILL: no shutdown hook runs
        child.waitFor();
        long deadline = System.nanoTime() + 10_000_000_000L;
        boolean gone = false;
        while (!gone && System.nanoTime() < deadline) {
            try {
                MesiboMock.connect(url);
                Thread.sleep(50);
            } catch (MesiboMockError error) {
                gone = true;
            }
        }
        assertTrue(gone, "the server outlived its test process");
    }

    static List<String> javaCommand(String mainClass) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // under the console launcher the test classes are not on java.class.path: build.sh names them
        String classPath = System.getProperty("mesibo.test.classpath", System.getProperty("java.class.path"));
        return List.of(java, "-cp", classPath, mainClass);
    }
}
