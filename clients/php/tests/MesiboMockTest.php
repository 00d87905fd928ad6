<?php

declare(strict_types=1);

use MesiboMock\MesiboMock;
use MesiboMock\MesiboMockException;
use MesiboMock\StrictModeException;
use PHPUnit\Framework\TestCase;

/** The class itself against a real server: start, connect, apps, the helpers. */
final class MesiboMockTest extends TestCase
{
    /** @var MesiboMock */
    private static $mock;

    public static function setUpBeforeClass(): void
    {
        self::$mock = MesiboMock::start();
    }

    public static function tearDownAfterClass(): void
    {
        self::$mock->stop();
    }

    public function testStartReadsTheReadyFile(): void
    {
        $this->assertMatchesRegularExpression('#^http://127\.0\.0\.1:\d+$#', self::$mock->url());
        $this->assertSame(MesiboMock::DEFAULT_APP_TOKEN, self::$mock->appToken());
        $this->assertSame('ok', self::$mock->health()['status']);
        $this->assertSame('default', self::$mock->app()['name']);
    }

    public function testAnOfflineUsersMessagePushesToFcmAndAGroupMessageToo(): void
    {
        $app = self::$mock->createApp(['credentials' => 'sample']);
        $app->registerDevice('1', ['pushToken' => 'fcm-1']);
        $app->registerDevice('2', ['pushToken' => 'fcm-2']);
        $app->setOnline('1', true);
        $mid = $app->sendMessage('1', '2', 'hello');
        [$push] = $app->waitForPushes(['mid' => $mid]);
        $this->assertSame('2', $push['address']);
        $this->assertSame('sent', $push['status']);
        $this->assertSame('hello', $push['request']['body']['message']['data']['body']);
        $gid = $app->backend('groupadd', ['group' => ['name' => 'team', 'members' => ['m' => '1,2']]])['group']['gid'];
        $groupMid = $app->sendMessage('1', null, 'all', ['gid' => $gid]);
        $this->assertSame('2', $app->waitForPushes(['mid' => $groupMid])[0]['address']);
        $this->assertSame([], self::$mock->pushes()); // the default app saw none of it
        $app->close();
    }

    public function testTheWebhookReceiverHearsUsersInOrder(): void
    {
        $app = self::$mock->createApp();
        $hook = $app->webhookReceiver(['events' => ['user']]);
        $app->backend('useradd', ['user' => ['address' => 'bob']]);
        $app->setOnline('bob', true);
        $app->setOnline('bob', false);
        $events = $hook->waitForEvents(['count' => 2, 'type' => 'user']);
        $this->assertSame(['online', 'offline'], array_column($events, 'status'));
        $this->assertSame('mesibo', $hook->posts()[0]['server']);
        $this->assertCount(2, $app->waitForEvents(['count' => 2, 'type' => 'user']));
        $app->close();
    }

    public function testStrictCloseThrowsThePluginsTextAfterDeletingTheApp(): void
    {
        $app = self::$mock->createApp(['strict' => true]);
        $app->backend('pushset', ['push' => ['sounds' => true]]);
        try {
            $app->close();
            $this->fail('close() did not throw');
        } catch (StrictModeException $error) {
            $this->assertStringStartsWith('mesibo-mock strict mode: 1 backend call mistake(s)', $error->getMessage());
            $this->assertStringContainsString("did you mean 'push.sound'?", $error->getMessage());
        }
        $tokens = array_column(self::$mock->apps(), 'token');
        $this->assertNotContains($app->token(), $tokens);
    }

    public function testRequestsAndMistakesReadTheJournal(): void
    {
        $app = self::$mock->createApp();
        $app->backend('nosuchop');
        $app->backend('useradd', ['user' => ['address' => 'ann']]);
        [$entry] = $app->requests(['op' => 'useradd']);
        $this->assertSame('[redacted]', $entry['fields']['token']);
        [$mistake] = $app->mistakes();
        $this->assertSame('unknown op', $mistake['kind']);
        $this->assertCount(2, $app->waitForRequests(['count' => 2]));
        $app->close();
    }

    public function testTheClockAndFaults(): void
    {
        $app = self::$mock->createApp(['credentials' => 'sample']);
        $app->registerDevice('1', ['responds' => false]);
        $app->backend('pushtest', ['push' => ['address' => '1']]);
        $app->advance(30);
        [$fallback] = $app->waitForPushes(['kind' => 'fallback']);
        $this->assertSame('alert', $fallback['push_type']);
        $app->realTime();
        $app->injectFault('UNREGISTERED', ['address' => '1']);
        $app->backendFault('QUOTAEXCEEDED', ['op' => 'useradd']);
        $this->assertSame('QUOTAEXCEEDED', $app->backend('useradd', ['user' => ['address' => 'x']])['error']);
        $this->assertTrue($app->backend('useradd', ['user' => ['address' => 'x']])['result']);
        $app->close();
    }

    public function testUploadCredentialTakesSampleBytesOrAPath(): void
    {
        $app = self::$mock->createApp();
        $bytes = $app->sample('apn-development.p12');
        $this->assertTrue($app->uploadCredential($bytes, ['type' => 'apn'])['push']['sandbox']);
        $path = tempnam(sys_get_temp_dir(), 'sa') . '.json';
        file_put_contents($path, $app->sample('fcm.json'));
        $this->assertSame('fcm', $app->uploadCredential($path)['push']['type']);
        unlink($path);
        $this->assertContains('apn-key.p8', array_column($app->samples(), 'name'));
        $app->close();
    }

    public function testAWaitThatRunsOutAndAnHttpErrorSayWhat(): void
    {
        $app = self::$mock->createApp();
        try {
            $app->waitForPushes(['address' => 'nobody', 'timeout' => 0.3]);
            $this->fail('no timeout');
        } catch (MesiboMockException $error) {
            $this->assertStringContainsString('expected 1 push(es)', $error->getMessage());
        }
        try {
            self::$mock->createApp(['credentials' => ['fcm' => 'nope.json']]);
            $this->fail('no 422');
        } catch (MesiboMockException $error) {
            $this->assertSame(422, $error->status);
            $this->assertStringContainsString("credentials.fcm: no sample named 'nope.json'", $error->getMessage());
        }
        $app->close();
    }

    public function testConnectFindsTheDefaultAppAndABadAddressIsNamed(): void
    {
        $attached = MesiboMock::connect(self::$mock->url());
        $this->assertSame(self::$mock->appToken(), $attached->appToken());
        $attached->stop();
        $this->assertSame('ok', self::$mock->health()['status']);
        $this->expectException(MesiboMockException::class);
        $this->expectExceptionMessage('cannot reach mesibo-mock');
        MesiboMock::connect('http://127.0.0.1:9');
    }

    public function testABadBinaryIsNamed(): void
    {
        $saved = getenv('MESIBO_MOCK_BIN');
        putenv('MESIBO_MOCK_BIN=/nonexistent/mesibo-mock');
        try {
            MesiboMock::start(['startupTimeout' => 5]);
            $this->fail('no error');
        } catch (MesiboMockException $error) { // the earlier name still catches MesiboMockError
            $this->assertInstanceOf(\MesiboMock\MesiboMockError::class, $error);
            $this->assertStringContainsString('/nonexistent/mesibo-mock', $error->getMessage());
        } finally {
            putenv($saved === false ? 'MESIBO_MOCK_BIN' : "MESIBO_MOCK_BIN=$saved"); // as it was: CI sets it
        }
        $this->assertSame($saved, getenv('MESIBO_MOCK_BIN'));
    }
}
