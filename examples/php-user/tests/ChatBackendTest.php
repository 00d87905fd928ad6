<?php

declare(strict_types=1);

use MesiboMock\PHPUnit\UsesMesiboMock;
use PHPUnit\Framework\TestCase;

/** The chat backend's tests against mesibo-mock: each test has an app of its own ($this->mesibo). */
final class ChatBackendTest extends TestCase
{
    use UsesMesiboMock;

    private function backend(): ChatBackend
    {
        return new ChatBackend($this->mesibo->backendUrl(), $this->mesibo->token());
    }

    public function testAMessageToAnOfflineUserPushesToTheirAndroidPhoneThroughFcm(): void
    {
        $this->mesibo->registerDevice('bob', ['pushToken' => 'fcm-bob']); // as Mesibo's SDK would
        $this->backend()->signUp('ann', 'Ann');
        $mid = $this->backend()->send('ann', 'bob', 'are you there?');
        [$push] = $this->mesibo->waitForPushes(['mid' => $mid]);
        $this->assertSame('fcm', $push['service']);
        $this->assertSame('sent', $push['status']);
        $this->assertSame('are you there?', $push['request']['body']['message']['data']['body']);
    }

    public function testTheWebhookHearsAUserComeOnlineAndGoOffline(): void
    {
        $hook = $this->mesibo->webhookReceiver(['events' => ['user']]);
        $this->backend()->signUp('bob', 'Bob');
        $this->mesibo->setOnline('bob', true);
        $this->mesibo->setOnline('bob', false);
        $events = $hook->waitForEvents(['count' => 2, 'type' => 'user']);
        $this->assertSame(['online', 'offline'], array_column($events, 'status'));
    }

    public function testStrictModeNamesTheTypoMesiboWouldIgnore(): void
    {
        $this->backend()->preferAlerts(); // Mesibo answers result: true and changes nothing
        [$finding] = $this->mesibo->mistakes(); // read, so expected: the test does not fail for it
        $this->assertSame('push.backgroud', $finding['field']);
        $this->assertStringContainsString("did you mean 'push.background'?", $finding['text']);
    }
}
