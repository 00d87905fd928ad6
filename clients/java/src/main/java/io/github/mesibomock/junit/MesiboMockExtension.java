package io.github.mesibomock.junit;

import io.github.mesibomock.MesiboApp;
import io.github.mesibomock.MesiboMock;
import io.github.mesibomock.MesiboMockError;
import io.github.mesibomock.Options;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5: one mesibo-mock server per test run, and an app of each test's own, named after the test
 * (`Class::display name`), as a {@link MesiboApp} parameter. A backend call with an op that does not
 * exist or a field no op reads, or a webhook delivery the handler did not answer with MESIBO OK, fails
 * the test (strict mode) unless the test read it with {@code mistakes()}; a failed test prints the
 * server's report of its backend calls.
 *
 * <pre>
 * &#64;ExtendWith(MesiboMockExtension.class)
 * class SignupTest {
 *     &#64;Test
 *     void signup(MesiboApp mesibo) { ... }
 * }
 * </pre>
 *
 * With options, as a field: {@code @RegisterExtension static MesiboMockExtension mesibo =
 * MesiboMockExtension.withOptions().strict(false).credentials(null).env("FALLBACK_SECONDS", "5");}
 * A {@link MesiboMock} parameter is the run's server (its helpers act on the server's app `default`).
 */
public final class MesiboMockExtension implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(MesiboMockExtension.class);
    private static final String APP = "app";

    private Object credentials = "sample";
    private boolean strict = true;
    private final Map<String, String> env = new LinkedHashMap<>();
    private String mode;

    /** The defaults: the sample FCM and APN credentials, strict mode. */
    public MesiboMockExtension() {
    }

    /** An extension to change with the methods below, for {@code @RegisterExtension}. */
    public static MesiboMockExtension withOptions() {
        return new MesiboMockExtension();
    }

    /** What each test's app is made with: "sample", a Map naming samples, or null for none. */
    public MesiboMockExtension credentials(Object credentials) {
        this.credentials = credentials;
        return this;
    }

    /** Whether a mistake the test did not read fails it (true by default). */
    public MesiboMockExtension strict(boolean strict) {
        this.strict = strict;
        return this;
    }

    /** A MESIBO_MOCK_* setting of the run's server (with or without the prefix). */
    public MesiboMockExtension env(String name, String value) {
        env.put(name, value);
        return this;
    }

    /** cloud (the default) or onprem. */
    public MesiboMockExtension mode(String mode) {
        this.mode = mode;
        return this;
    }

    /** The run's server for these settings: started once, stopped when the run ends. */
    private MesiboMock server(ExtensionContext context) {
        String key = "server " + mode + " " + env;
        Server server = context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(key, k -> new Server(start()), Server.class);
        return server.mock;
    }

    private MesiboMock start() {
        Options options = Options.of("env", env).and("mode", mode);
        return MesiboMock.start(options);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        String name = context.getRequiredTestClass().getSimpleName() + "::" + context.getDisplayName();
        Options options = Options.of("name", name).and("credentials", credentials).and("strict", strict);
        context.getStore(NAMESPACE).put(APP, server(context).createApp(options));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        MesiboApp app = context.getStore(NAMESPACE).remove(APP, MesiboApp.class);
        if (app == null) {
            return;
        }
        if (context.getExecutionException().isPresent()) {
            String report;
            try {
                report = app.report();
            } catch (MesiboMockError error) {
                report = "(the report could not be read: " + error.getMessage() + ")";
            }
            System.err.println("mesibo-mock: backend calls during " + app.name() + "\n" + report);
            app.notStrict(); // failed already: its mistakes are in the report
        }
        app.close(); // strict mode: throws, failing the test, naming each mistake
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == MesiboApp.class || type == MesiboMock.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        if (parameter.getParameter().getType() == MesiboMock.class) {
            return server(context);
        }
        MesiboApp app = context.getStore(NAMESPACE).get(APP, MesiboApp.class);
        if (app == null) {
            throw new MesiboMockError("a MesiboApp parameter is a test method's: its app is made before each test");
        }
        return app;
    }

    /** The run's server, stopped by JUnit when the run's root context closes. */
    private static final class Server implements ExtensionContext.Store.CloseableResource {
        final MesiboMock mock;

        Server(MesiboMock mock) {
            this.mock = mock;
        }

        @Override
        public void close() {
            mock.stop();
        }
    }
}
