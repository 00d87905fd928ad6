package io.github.mesibomock;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A running mesibo-mock: started by this process, or connected to. Its helpers act on the server's app
 * `default` (or the app token given to connect); {@link #createApp()} gives a test an app of its own.
 *
 * <pre>
 * try (MesiboMock mock = MesiboMock.start(); MesiboApp app = mock.createApp(Options.of("credentials", "sample"))) {
 *     app.registerDevice("bob");
 *     // ... your code calls app.backendUrl() with app.token() ...
 *     JsonNode push = app.waitForPushes(Options.of("address", "bob")).get(0);
 * }
 * </pre>
 */
public final class MesiboMock extends Helpers implements AutoCloseable {
    public static final String DEFAULT_APP_TOKEN = "mesibo-mock-test-token";
    /** The README's install, run where the tests run (a clone's folder now; `mesibo-mock` once published). */
    public static final String INSTALL = "python3 -m venv .venv && .venv/bin/pip install <mesibo-mock's folder>";
    private static final String READY_PREFIX = "mesibo-mock ready ";

    private final Process process;
    private final Path workdir;
    private final List<MesiboApp> madeApps = new ArrayList<>();

    private MesiboMock(Http http, String token, Process process, Path workdir) {
        super(http, token);
        this.process = process;
        this.workdir = workdir;
    }

    /** Run a server with the default settings (see {@link #start(Options)}). */
    public static MesiboMock start() {
        return start(Options.none());
    }

    /**
     * Run a server: the one at MESIBO_MOCK_URL if set (then it only connects), else MESIBO_MOCK_BIN, else
     * `mesibo-mock` on PATH, else `.venv/bin/mesibo-mock` in the working folder or a folder above it,
     * else `python3 -m mesibo_mock`. It ends with this JVM, however that ends (`--parent-pid`). Options:
     * mode, seed, env (a Map of MESIBO_MOCK_* settings, with or without the prefix), port, appToken,
     * logLevel, startupTimeout (seconds).
     */
    public static MesiboMock start(Options options) {
        String url = System.getenv("MESIBO_MOCK_URL");
        if (url != null && !url.isEmpty()) {
            return connect(url, System.getenv("MESIBO_MOCK_ADMIN_TOKEN"), null);
        }
        Map<String, String> settings = new LinkedHashMap<>();
        Object env = options.get("env");
        if (env instanceof Map) {
            ((Map<?, ?>) env).forEach((key, value) -> {
                String name = String.valueOf(key);
                settings.put(name.startsWith("MESIBO_MOCK_") ? name : "MESIBO_MOCK_" + name.toUpperCase(), String.valueOf(value));
            });
        }
        if (options.get("mode") != null) {
            settings.put("MESIBO_MOCK_MODE", String.valueOf(options.get("mode")));
        }
        if (options.get("seed") != null) {
            settings.put("MESIBO_MOCK_SEED", Paths.get(String.valueOf(options.get("seed"))).toAbsolutePath().toString());
        }
        settings.put("MESIBO_MOCK_APP_TOKEN", String.valueOf(options.values.getOrDefault("appToken", DEFAULT_APP_TOKEN)));
        Found found = findServer(Paths.get("").toAbsolutePath());
        Path workdir;
        try {
            workdir = Files.createTempDirectory("mesibo-mock-");
        } catch (IOException error) {
            throw new MesiboMockError("cannot make a folder for the server: " + error.getMessage());
        }
        Path ready = workdir.resolve("ready.json");
        Path log = workdir.resolve("server.log");
        List<String> command = new ArrayList<>(found.command);
        command.addAll(Arrays.asList("serve", "--port", String.valueOf(options.values.getOrDefault("port", 0)), "--db", ":memory:",
                "--log-level", String.valueOf(options.values.getOrDefault("logLevel", "warning")), "--ready-file", ready.toString(),
                "--parent-pid", String.valueOf(ProcessHandle.current().pid())));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().putAll(settings);
        Process process;
        try {
            process = builder.start();
        } catch (IOException error) {
            throw notStarted(found, "could not start: " + error.getMessage());
        }
        double timeout = ((Number) options.values.getOrDefault("startupTimeout", 20)).doubleValue();
        long deadline = System.nanoTime() + (long) (timeout * 1e9);
        while (!Files.exists(ready)) { // written whole, at once, when the server listens
            if (!process.isAlive() || System.nanoTime() > deadline) {
                String why = process.isAlive() ? "was not ready in time" : "exited with status " + process.exitValue();
                process.destroyForcibly();
                String said = read(log).trim();
                throw notStarted(found, why + (said.isEmpty() ? "" : ": " + said.substring(Math.max(0, said.length() - 2000))));
            }
            sleep(10);
        }
        JsonNode record;
        try {
            record = Http.JSON.readTree(ready.toFile());
        } catch (IOException error) {
            throw new MesiboMockError("the server's ready file could not be read: " + error.getMessage());
        }
        MesiboMock mock = new MesiboMock(new Http(record.get("url").asText(), settings.get("MESIBO_MOCK_ADMIN_TOKEN")),
                record.get("app_token").asText(), process, workdir);
        Runtime.getRuntime().addShutdownHook(new Thread(mock::stopServer, "mesibo-mock-stop"));
        return mock;
    }

    /** Attach to a running server (a compose service, an image); its helpers act on its app `default`. */
    public static MesiboMock connect(String url) {
        return connect(url, null, null);
    }

    /** Attach with the server's admin token, and (if not null) act on the app with `appToken`. */
    public static MesiboMock connect(String url, String adminToken, String appToken) {
        Http http = new Http(url, adminToken);
        http.json("GET", "/_mock/health", null, null);
        String token = appToken;
        if (token == null) {
            for (Map<String, Object> query : List.of(Map.<String, Object>of("name", "default", "limit", 1), Map.<String, Object>of("limit", 1))) {
                JsonNode apps = http.json("GET", "/_mock/apps", query, null).get("apps");
                if (apps.size() > 0) {
                    token = apps.get(0).get("token").asText();
                    break;
                }
            }
            if (token == null) {
                throw new MesiboMockError("the server at " + http.url() + " has no app; give an app token");
            }
        }
        return new MesiboMock(http, token, null, null);
    }

    public MesiboApp createApp() {
        return createApp(Options.none());
    }

    /**
     * An app of the test's own. Options: name (the server makes one when none is given), token,
     * credentials ("sample", or a Map naming samples), strict (close() throws for the findings the test
     * did not read).
     */
    public MesiboApp createApp(Options options) {
        Map<String, Object> body = new LinkedHashMap<>();
        Object name = options.get("name");
        if (name != null) {
            String text = String.valueOf(name);
            body.put("name", text.length() > 200 ? text.substring(0, 200) : text);
        }
        if (options.get("token") != null) {
            body.put("token", options.get("token"));
        }
        Object credentials = options.get("credentials");
        if (credentials != null) {
            body.put("credentials", "sample".equals(credentials) ? Map.of("fcm", "sample", "apn", "sample") : credentials);
        }
        boolean strict = Boolean.TRUE.equals(options.get("strict"));
        MesiboApp app = new MesiboApp(http, http.json("POST", "/_mock/apps", null, body), strict);
        madeApps.add(app);
        return app;
    }

    /** The server's apps, oldest first; at most 1,000. */
    public List<JsonNode> apps() {
        return list(http.json("GET", "/_mock/apps", Map.of("limit", 1000), null), "apps");
    }

    public void deleteApp(String appToken) {
        http.json("DELETE", "/_mock/apps/" + Http.encode(appToken), null, null);
    }

    /** Wipe the server (every app, record and fault): only for a server your tests own. */
    public JsonNode reset() {
        return http.json("POST", "/_mock/reset", null, Map.of());
    }

    /** The server's log (a server this object started). */
    public String logs() {
        return workdir == null ? "" : read(workdir.resolve("server.log"));
    }

    /** Close the apps and receivers still open, then end the server if this process started it. */
    public void stop() {
        for (MesiboApp app : madeApps) {
            app.notStrict();
            try {
                app.close();
            } catch (MesiboMockError ignored) {
                // the server may be gone already
            }
        }
        madeApps.clear();
        closeReceivers();
        stopServer();
    }

    private synchronized void stopServer() {
        if (process != null && process.isAlive()) {
            process.destroy(); // SIGTERM: the server finishes what it was doing and exits 0
            try {
                if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException error) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        if (workdir != null) {
            try (var files = Files.list(workdir)) {
                files.forEach(file -> file.toFile().delete());
            } catch (IOException ignored) {
                // already gone
            }
            workdir.toFile().delete();
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** The command that runs the server, and every place looked at on the way. */
    public static final class Found {
        public final List<String> command;
        public final List<String> tried;

        Found(List<String> command, List<String> tried) {
            this.command = command;
            this.tried = tried;
        }
    }

    /**
     * MESIBO_MOCK_BIN, `mesibo-mock` on PATH, `.venv/bin/mesibo-mock` in `cwd` and its parents (the
     * README's install), then `python3 -m mesibo_mock`.
     */
    public static Found findServer(Path cwd) {
        List<String> tried = new ArrayList<>();
        String bin = System.getenv("MESIBO_MOCK_BIN");
        if (bin != null && !bin.trim().isEmpty()) {
            tried.add("MESIBO_MOCK_BIN");
            return new Found(Arrays.asList(bin.trim().split("\\s+")), tried);
        }
        tried.add("MESIBO_MOCK_BIN (not set)");
        String path = System.getenv("PATH");
        for (String folder : (path == null ? "" : path).split(File.pathSeparator)) {
            if (!folder.isEmpty() && Files.isExecutable(Paths.get(folder, "mesibo-mock")) && Files.isRegularFile(Paths.get(folder, "mesibo-mock"))) {
                return new Found(List.of(Paths.get(folder, "mesibo-mock").toString()), tried);
            }
        }
        tried.add("mesibo-mock on PATH (not found)");
        for (Path folder = cwd.toAbsolutePath(); folder != null; folder = folder.getParent()) {
            Path candidate = folder.resolve(".venv/bin/mesibo-mock");
            if (Files.isExecutable(candidate) && Files.isRegularFile(candidate)) {
                return new Found(List.of(candidate.toString()), tried);
            }
        }
        tried.add(".venv/bin/mesibo-mock in " + cwd.toAbsolutePath() + " and its parents (not found)");
        return new Found(List.of("python3", "-m", "mesibo_mock"), tried);
    }

    private static MesiboMockError notStarted(Found found, String why) {
        StringBuilder text = new StringBuilder("mesibo-mock could not be started. Tried:");
        for (String place : found.tried) {
            text.append("\n  - ").append(place);
        }
        text.append("\n  - ").append(String.join(" ", found.command)).append(" (").append(why).append(")");
        text.append("\nInstall it with the README's command (").append(INSTALL)
                .append("), or set MESIBO_MOCK_BIN to its mesibo-mock (or MESIBO_MOCK_URL to a running server).");
        return new MesiboMockError(text.toString());
    }

    private static String read(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException error) {
            return "";
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException error) {
            Thread.currentThread().interrupt();
            throw new MesiboMockError("interrupted while waiting for the server");
        }
    }
}
