package io.github.mesibomock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.StringJoiner;

/** JSON over HTTP with java.net.http: the one place the client talks to the server. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final String url;
    private final String adminToken;

    Http(String url, String adminToken) {
        String trimmed = url.replaceAll("/+$", "");
        this.url = trimmed.endsWith("/backend") ? trimmed.substring(0, trimmed.length() - "/backend".length()) : trimmed;
        this.adminToken = adminToken;
    }

    String url() {
        return url;
    }

    JsonNode json(String method, String route, Map<String, ?> query, Object body) {
        String text = text(method, route, query, body, 30);
        try {
            return text.isEmpty() ? null : JSON.readTree(text);
        } catch (IOException error) {
            throw new MesiboMockError(method + " " + route + ": the answer is not JSON: " + error.getMessage());
        }
    }

    String text(String method, String route, Map<String, ?> query, Object body, double timeoutSeconds) {
        return new String(bytes(method, route, query, body, timeoutSeconds, null), StandardCharsets.UTF_8);
    }

    byte[] bytes(String method, String route, Map<String, ?> query, Object body, double timeoutSeconds, String contentType) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url + route + queryString(query)))
                .timeout(Duration.ofMillis((long) (timeoutSeconds * 1000)));
        if (adminToken != null) {
            request.header("Authorization", "Bearer " + adminToken);
        }
        HttpRequest.BodyPublisher publisher = HttpRequest.BodyPublishers.noBody();
        if (body instanceof byte[]) {
            publisher = HttpRequest.BodyPublishers.ofByteArray((byte[]) body);
            request.header("Content-Type", contentType);
        } else if (body != null) {
            try {
                publisher = HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body));
            } catch (IOException error) {
                throw new MesiboMockError("cannot write " + body + " as JSON: " + error.getMessage());
            }
            request.header("Content-Type", "application/json");
        }
        HttpResponse<byte[]> response;
        try {
            response = client.send(request.method(method, publisher).build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException error) {
            throw new MesiboMockError(method + " " + route + ": cannot reach mesibo-mock at " + url + " (" + error + ")");
        } catch (InterruptedException error) {
            Thread.currentThread().interrupt();
            throw new MesiboMockError(method + " " + route + ": interrupted");
        }
        if (response.statusCode() >= 400) {
            String said = new String(response.body(), StandardCharsets.UTF_8);
            throw new MesiboMockError(method + " " + route + " -> " + response.statusCode() + ": " + said, response.statusCode(), said);
        }
        return response.body();
    }

    static String queryString(Map<String, ?> query) {
        if (query == null || query.isEmpty()) {
            return "";
        }
        StringJoiner joined = new StringJoiner("&", "?", "");
        query.forEach((key, value) -> {
            if (value != null) {
                joined.add(encode(key) + "=" + encode(String.valueOf(value)));
            }
        });
        return joined.length() == 1 ? "" : joined.toString();
    }

    static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }
}
