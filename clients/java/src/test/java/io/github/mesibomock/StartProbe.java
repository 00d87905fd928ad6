package io.github.mesibomock;

/** Run by MesiboMockTest in a JVM of its own, then killed with SIGKILL: its server must go with it. */
public final class StartProbe {
    private StartProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        MesiboMock mock = MesiboMock.start();
        System.out.println("URL " + mock.url());
        System.out.flush();
        Thread.sleep(60_000);
    }
}
