// Java 11+'s java.net.http.HttpClient at its defaults: HttpClient.newHttpClient() asks for HTTP/2, so on an
// http:// URL every call offers an h2c upgrade (Connection: Upgrade, HTTP2-Settings).
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.ByteArrayOutputStream;

public class MatrixHttpClient {
    static String enc(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8); }

    public static void main(String[] args) throws Exception {
        String url = System.getenv("MATRIX_BACKEND"), token = System.getenv("MATRIX_TOKEN");
        String address = System.getenv("MATRIX_ADDRESS");
        HttpClient client = HttpClient.newHttpClient();
        String json = "{\"op\":\"useradd\",\"token\":\"" + token + "\",\"user\":{\"address\":\"" + address + "\",\"name\":\"json\"}}";
        send(client, "json", HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
        String form = "op=userset&token=" + enc(token) + "&addr=" + enc(address) + "&name=form";
        send(client, "form", HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build());
        send(client, "query", HttpRequest.newBuilder(URI.create(url + "?op=usersget&token=" + enc(token) + "&addr=" + enc(address))).GET().build());
        String boundary = "matrix" + System.nanoTime();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (String[] field : new String[][] {{"op", "pushupload"}, {"token", token}}) {
            body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field[0] + "\"\r\n\r\n" + field[1] + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"fcm.json\"\r\nContent-Type: application/json\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.write(Files.readAllBytes(Path.of(System.getenv("MATRIX_FILE"))));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        send(client, "multipart", HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build());
    }

    static void send(HttpClient client, String name, HttpRequest request) throws Exception {
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        System.out.println(name + " " + response.statusCode() + " " + response.body());
    }
}
