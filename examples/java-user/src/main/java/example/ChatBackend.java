package example;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A chat backend's own code: what calls Mesibo's backend API. In production the URL is
 * https://api.mesibo.com/backend; under test it is the emulator's. Nothing here knows about tests. Its
 * HttpClient is the JDK's at its defaults, which offers an h2c upgrade on every http:// call.
 */
public final class ChatBackend {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private final String url;
    private final String token;

    public ChatBackend(String url, String token) {
        this.url = url;
        this.token = token;
    }

    public void signUp(String phone, String name) {
        call("useradd", Map.of("user", Map.of("address", phone, "name", name)));
    }

    public long send(String from, String to, String text) {
        return call("message", Map.of("message", Map.of("from", from, "to", to, "message", text))).get("mid").asLong();
    }

    /** A typo Mesibo answers with result: true and ignores: "backgroud" is not a push option. */
    public void preferAlerts() {
        call("pushset", Map.of("push", Map.of("backgroud", false)));
    }

    private JsonNode call(String op, Map<String, ?> fields) {
        Map<String, Object> body = new LinkedHashMap<>(fields);
        body.put("op", op);
        body.put("token", token);
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(url))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))
                    .build();
            JsonNode answer = JSON.readTree(http.send(request, HttpResponse.BodyHandlers.ofByteArray()).body());
            if (!answer.path("result").asBoolean()) {
                throw new IllegalStateException("Mesibo refused " + op + ": " + answer);
            }
            return answer;
        } catch (IOException error) {
            throw new IllegalStateException("Mesibo could not be reached: " + error, error);
        } catch (InterruptedException error) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", error);
        }
    }
}
