package io.github.mesibomock.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.github.mesibomock.fixtures.ExtendedCase;
import io.github.mesibomock.fixtures.RegisteredCase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/** The extension as a user's run meets it: the fixtures run by JUnit's own launcher, each ending checked. */
class MesiboMockExtensionTest {
    /** Each test's display name and how it ended, and what the run printed to stderr. */
    static Map<String, TestExecutionResult> run(Class<?> testClass, ByteArrayOutputStream err) {
        Map<String, TestExecutionResult> endings = new TreeMap<>();
        PrintStream saved = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            Launcher launcher = LauncherFactory.create();
            launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(testClass)).build(), new TestExecutionListener() {
                @Override
                public void executionFinished(TestIdentifier test, TestExecutionResult result) {
                    if (test.isTest()) {
                        endings.put(test.getDisplayName(), result);
                    }
                }
            });
        } finally {
            System.setErr(saved);
        }
        return endings;
    }

    @Test
    void anAppPerTestNamedAfterItStrictModeAndTheReportOnAFailure() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Map<String, TestExecutionResult> endings = run(ExtendedCase.class, err);
        String said = err.toString(StandardCharsets.UTF_8);
        assertEquals(4, endings.size(), endings.toString());
        assertEquals(TestExecutionResult.Status.SUCCESSFUL, endings.get("isNamedAfterItself(MesiboApp, MesiboMock)").getStatus(), endings.toString());
        assertEquals(TestExecutionResult.Status.SUCCESSFUL, endings.get("expectsAFinding(MesiboApp)").getStatus(), endings.toString());
        TestExecutionResult typo = endings.get("aTypoFailsIt(MesiboApp)");
        assertEquals(TestExecutionResult.Status.FAILED, typo.getStatus());
        String why = typo.getThrowable().orElseThrow().getMessage();
        assertTrue(why.contains("'push.sounds' is not a field of pushset") && why.contains("did you mean 'push.sound'?"), why);
        assertEquals(TestExecutionResult.Status.FAILED, endings.get("failsAndItsCallsAreReported(MesiboApp)").getStatus());
        assertTrue(said.contains("mesibo-mock: backend calls during ExtendedCase::failsAndItsCallsAreReported(MesiboApp)"), said);
        assertTrue(said.matches("(?s).*#\\d+ /backend op=useradd \\(json\\) -> ok.*"), said);
        assertTrue(!said.contains("expectsAFinding"), said);
    }

    @Test
    void optionsThroughRegisterExtension() {
        Map<String, TestExecutionResult> endings = run(RegisteredCase.class, new ByteArrayOutputStream());
        assertEquals(TestExecutionResult.Status.SUCCESSFUL, endings.get("aTypoPassesWithoutStrictMode(MesiboApp)").getStatus(), endings.toString());
    }
}
