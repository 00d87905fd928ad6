package example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mesibomock.MesiboApp;
import io.github.mesibomock.Options;
import io.github.mesibomock.WebhookReceiver;
import io.github.mesibomock.junit.MesiboMockExtension;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The chat backend's tests against mesibo-mock: each test gets an app of its own, `mesibo`. */
@ExtendWith(MesiboMockExtension.class)
class ChatBackendTest {
    @Test
    void aMessageToAnOfflineUserPushesToTheirAndroidPhoneThroughFcm(MesiboApp mesibo) {
        mesibo.registerDevice("bob", Options.of("pushToken", "fcm-bob")); // as Mesibo's SDK would on the phone
        ChatBackend backend = new ChatBackend(mesibo.backendUrl(), mesibo.token());
        backend.signUp("ann", "Ann");
        long mid = backend.send("ann", "bob", "are you there?");
        JsonNode push = mesibo.waitForPushes(Options.of("mid", mid)).get(0);
        assertEquals("fcm", push.get("service").asText());
        assertEquals("sent", push.get("status").asText());
        assertEquals("are you there?", push.at("/request/body/message/data/body").asText()); // what FCM would have got
    }

    @Test
    void theWebhookHearsAUserComeOnlineAndGoOffline(MesiboApp mesibo) {
        WebhookReceiver hook = mesibo.webhookReceiver(Options.of("events", List.of("user")));
        new ChatBackend(mesibo.backendUrl(), mesibo.token()).signUp("bob", "Bob");
        mesibo.setOnline("bob", true);
        mesibo.setOnline("bob", false);
        List<JsonNode> events = hook.waitForEvents(Options.of("type", "user").count(2));
        assertEquals("online", events.get(0).get("status").asText());
        assertEquals("offline", events.get(1).get("status").asText());
    }

    @Test
    void strictModeNamesTheTypoMesiboWouldIgnore(MesiboApp mesibo) {
        new ChatBackend(mesibo.backendUrl(), mesibo.token()).preferAlerts(); // Mesibo says yes, changes nothing
        JsonNode finding = mesibo.mistakes().get(0); // read, so expected: the test does not fail for it
        assertEquals("push.backgroud", finding.get("field").asText());
        assertTrue(finding.get("text").asText().contains("did you mean 'push.background'?"));
    }
}
