// OkHttp (Debian's 3.13) at its defaults: a new OkHttpClient(), its own form and multipart bodies.
import java.io.File;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.MultipartBody;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

public class MatrixOkHttp {
    public static void main(String[] args) throws Exception {
        String url = System.getenv("MATRIX_BACKEND"), token = System.getenv("MATRIX_TOKEN");
        String address = System.getenv("MATRIX_ADDRESS");
        OkHttpClient client = new OkHttpClient();
        String json = "{\"op\":\"useradd\",\"token\":\"" + token + "\",\"user\":{\"address\":\"" + address + "\",\"name\":\"json\"}}";
        send(client, "json", new Request.Builder().url(url).post(RequestBody.create(MediaType.parse("application/json"), json)).build());
        RequestBody form = new FormBody.Builder().add("op", "userset").add("token", token).add("addr", address).add("name", "form").build();
        send(client, "form", new Request.Builder().url(url).post(form).build());
        HttpUrl query = HttpUrl.parse(url).newBuilder().addQueryParameter("op", "usersget").addQueryParameter("token", token)
                .addQueryParameter("addr", address).build();
        send(client, "query", new Request.Builder().url(query).get().build());
        RequestBody upload = new MultipartBody.Builder().setType(MultipartBody.FORM).addFormDataPart("op", "pushupload")
                .addFormDataPart("token", token)
                .addFormDataPart("file", "fcm.json", RequestBody.create(MediaType.parse("application/json"), new File(System.getenv("MATRIX_FILE"))))
                .build();
        send(client, "multipart", new Request.Builder().url(url).post(upload).build());
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }

    static void send(OkHttpClient client, String name, Request request) throws Exception {
        try (Response response = client.newCall(request).execute()) {
            System.out.println(name + " " + response.code() + " " + response.body().string());
        }
    }
}
