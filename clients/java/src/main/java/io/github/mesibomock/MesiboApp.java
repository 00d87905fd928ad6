package io.github.mesibomock;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * An app of a test's own: its token, its backend URL, and every helper scoped to it, so tests leave each
 * other's data alone. {@link #close()} deletes it, and with strict mode throws for the mistakes its calls
 * made that the test did not read with {@link #mistakes()}.
 */
public final class MesiboApp extends Helpers implements AutoCloseable {
    private final JsonNode view;
    private boolean strict;
    private boolean closed;

    MesiboApp(Http http, JsonNode view, boolean strict) {
        super(http, view.get("token").asText());
        this.view = view;
        this.strict = strict;
    }

    /** The app's name: its test's, where the framework says which. */
    public String name() {
        return view.get("name").asText();
    }

    /** The app as the server showed it when it was made (credentials, options). */
    public JsonNode view() {
        return view;
    }

    public boolean isStrict() {
        return strict;
    }

    /** Strict mode off: a test that failed already has its mistakes in its report. */
    public void notStrict() {
        strict = false;
    }

    /**
     * Delete the app (and close its webhook receivers); with strict mode, then throw MesiboMockError
     * naming each mistake (an unknown op, a field no op reads, an unanswered webhook) the test did not
     * read with mistakes(), in the words every client uses.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        String report = strict ? unexpectedMistakes() : null;
        closeReceivers();
        try {
            http.json("DELETE", appPath(""), null, null);
        } catch (MesiboMockError error) {
            if (error.status() == null || error.status() != 404) { // gone already (a server-wide reset)
                throw error;
            }
        }
        if (report != null) {
            throw new MesiboMockError(report);
        }
    }

    @Override
    public String toString() {
        return "MesiboApp(" + name() + ", " + token() + ")";
    }
}
