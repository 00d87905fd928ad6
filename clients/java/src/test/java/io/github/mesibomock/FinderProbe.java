package io.github.mesibomock;

/** Run by MesiboMockTest in a JVM of its own, without MESIBO_MOCK_BIN: prints why no server started. */
public final class FinderProbe {
    private FinderProbe() {
    }

    public static void main(String[] args) {
        try (MesiboMock mock = MesiboMock.start(Options.of("startupTimeout", 30))) {
            System.out.println("STARTED " + mock.url());
        } catch (MesiboMockError error) {
            System.out.println("FAILED " + error.getMessage());
        }
    }
}
