package io.github.mesibomock;

/**
 * What the client throws, named as in every client of mesibo-mock: an HTTP refusal of the emulator
 * (with its status and body), a wait that ran out, a server that would not start, or strict mode's
 * findings (the same text in every language).
 */
public class MesiboMockError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final Integer status;
    private final String body;

    public MesiboMockError(String message) {
        this(message, null, null);
    }

    public MesiboMockError(String message, Integer status, String body) {
        super(message);
        this.status = status;
        this.body = body;
    }

    /** The HTTP status the server answered, or null when the error is not an HTTP refusal. */
    public Integer status() {
        return status;
    }

    /** The body the server answered, or null. */
    public String body() {
        return body;
    }
}
