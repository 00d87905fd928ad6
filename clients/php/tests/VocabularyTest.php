<?php

declare(strict_types=1);

use MesiboMock\MesiboMock;
use MesiboMock\MesiboMockError;
use MesiboMock\StrictModeException;
use MesiboMock\WebhookReceiver;
use PHPUnit\Framework\TestCase;

/**
 * SPEC 9.1 in PHP, against a real server: helpers scoped to their app, the routes every client wraps,
 * strict mode's webhook finding and expected findings, the report, finding the server, and a server
 * that never outlives its test process.
 */
final class VocabularyTest extends TestCase
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

    public function testTheMocksHelpersActOnItsOwnAppAndAllAppsReadsEvery(): void
    {
        $app = self::$mock->createApp(['credentials' => 'sample']);
        $app->registerDevice('ann');
        $app->backend('pushtest', ['push' => ['address' => 'ann']]);
        [$mine] = $app->waitForPushes(); // no count: one is enough
        $this->assertSame($app->token(), $mine['app']);
        $this->assertSame([], self::$mock->pushes());
        $this->assertSame([$app->token()], array_column(self::$mock->pushes(['allApps' => true]), 'app'));
        self::$mock->registerDevice('ann');
        self::$mock->backend('pushtest', ['push' => ['address' => 'ann']]);
        self::$mock->waitForPushes();
        $app->clearPushes();
        $this->assertSame([], $app->pushes());
        $this->assertCount(1, self::$mock->pushes());
        self::$mock->clearPushes();
        $app->close();
    }

    public function testFaultsAreTheAppsOwnListedRemovedClearedAndLastTheirCount(): void
    {
        $app = self::$mock->createApp(['credentials' => 'sample']);
        $app->registerDevice('ann');
        $fault = $app->injectFault('UNREGISTERED', ['count' => 2]);
        $this->assertSame([$fault['id']], array_column($app->faults(), 'id'));
        $this->assertSame([], self::$mock->faults());
        for ($i = 0; $i < 3; $i++) {
            $app->backend('pushtest', ['push' => ['address' => 'ann']]);
        }
        $pushes = $app->waitForPushes(['count' => 3]);
        $this->assertSame([true, true, false], array_reverse(array_column($pushes, 'injected')));
        $held = $app->backendFault('QUOTAEXCEEDED', ['op' => 'usersget', 'count' => null]);
        $this->assertTrue(self::$mock->backend('usersget')['result']);
        $this->assertSame('QUOTAEXCEEDED', $app->backend('usersget')['error']);
        $this->assertSame([$held['id']], array_column($app->backendFaults(), 'id'));
        $app->removeBackendFault($held['id']);
        $this->assertTrue($app->backend('usersget')['result']);
        self::$mock->backendFault('QUOTAEXCEEDED', ['count' => null]);
        $app->backendFault('QUOTAEXCEEDED', ['count' => null]);
        $app->clearBackendFaults();
        $this->assertSame([], $app->backendFaults());
        $this->assertCount(1, self::$mock->backendFaults());
        self::$mock->clearBackendFaults();
        $other = $app->injectFault('UNREGISTERED', ['count' => null]);
        $app->removeFault($other['id']);
        $this->assertSame([], $app->faults());
        $app->close();
    }

    public function testAWaitIsTheServersLongPollNotASpin(): void
    {
        $own = MesiboMock::start(['logLevel' => 'info']); // its access log counts the requests
        try {
            $app = $own->createApp(['credentials' => 'sample']);
            $app->backend('pushset', ['push' => ['ratelimit' => false]]);
            $app->registerDevice('ann');
            $app->backend('pushtest', ['push' => ['address' => 'ann']]);
            $before = substr_count($own->logs(), 'GET /_mock/pushes?');
            // two more pushes come from another process while this one waits for three
            $later = proc_open([PHP_BINARY, '-r', 'require ' . var_export(dirname(__DIR__) . '/autoload.php', true) . ';'
                . 'usleep(300000); $m = MesiboMock\MesiboMock::connect(' . var_export($own->url(), true) . ', null, '
                . var_export($app->token(), true) . '); $m->backend("pushtest", ["push" => ["address" => "ann"]]);'
                . 'usleep(300000); $m->backend("pushtest", ["push" => ["address" => "ann"]]);'], [], $pipes);
            $this->assertCount(3, $app->waitForPushes(['count' => 3]));
            proc_close($later);
            $this->assertCount(3, $app->waitForPushes()); // no count: one is enough, at once
            usleep(200000); // the access log line follows the answer
            $made = substr_count($own->logs(), 'GET /_mock/pushes?') - $before;
            $this->assertGreaterThanOrEqual(2, $made);
            $this->assertLessThanOrEqual(4, $made, "the waits made $made requests");
        } finally {
            $own->stop();
        }
    }

    public function testAppsAnAppWithoutANameAndConnectToABackendUrl(): void
    {
        $app = self::$mock->createApp();
        $this->assertMatchesRegularExpression('/^app-\d+$/', $app->name());
        $this->assertContains($app->name(), array_column(self::$mock->apps(), 'name'));
        $this->assertFalse(method_exists(self::$mock, 'listApps')); // one name in every language
        $attached = MesiboMock::connect(self::$mock->backendUrl()); // the URL a backend is given
        $this->assertSame(self::$mock->url(), $attached->url());
        $this->assertSame(self::$mock->appToken(), $attached->appToken());
        $app->close();
    }

    public function testTheRoutesEveryClientWraps(): void
    {
        $app = self::$mock->createApp(['credentials' => 'sample']);
        foreach (['ann', 'bob'] as $address) {
            $app->backend('useradd', ['user' => ['address' => $address]]);
        }
        $app->registerDevice('ann');
        $mid = $app->sendMessage('bob', 'ann', 'hi');
        $app->waitForPushes();
        $kinds = array_column($app->timeline($mid)['items'], 'kind');
        $this->assertContains('call', $kinds);
        $this->assertContains('push', $kinds);
        [$entry] = $app->requests(['op' => 'message']);
        $this->assertSame('hi', $app->request($entry['id'])['fields']['message']['message']);
        $this->assertSame($entry['id'], $app->lastRequestId());
        $this->assertSame(3, $app->clearRequests()['deleted']);
        $this->assertSame([], $app->requests());
        $app->backend('otp', ['otp' => ['address' => 'ann']]);
        [$code] = $app->otps('ann');
        $this->assertSame(6, strlen($code['otp']));
        $uac = $app->backend('uacset', ['uac' => ['name' => 'admin']])['uac']['id'];
        $this->assertSame('admin', $app->uac($uac)['name']);
        $app->setDisabled(true);
        $this->assertSame('TOKENBREACH', $app->backend('usersget')['error']);
        $app->setDisabled(false);
        $this->assertTrue($app->backend('usersget')['result']);
        [$device] = $app->devices('ann');
        $app->removeDevice($device['id']);
        $this->assertSame([], $app->devices());
        $hook = $app->webhookReceiver();
        $app->setOnline('ann', true);
        $this->assertContains($app->waitForDeliveries()[0]['state'], ['pending', 'delivered']);
        $this->assertTrue($app->waitForWebhookAttempts()[0]['ok']);
        $hook->waitForEvents();
        $app->removeWebhook();
        $this->assertNull($app->app()['webhook']);
        $this->assertGreaterThan(0, $app->resetApp()['cleared']);
        $this->assertSame([], $app->users());
        $this->assertNotNull($app->app()['credentials']['fcm']); // kept
        $app->close();
    }

    public function testTheReportIsTheServers(): void
    {
        $app = self::$mock->createApp();
        $app->backend('useradd', ['user' => ['address' => 'ann', 'nmae' => 'Ann']]);
        $report = $app->report();
        $this->assertStringContainsString('op=useradd (json) -> ok', $report);
        $this->assertStringContainsString("'user.nmae'", $report);
        $app->close();
    }

    public function testAHandlerThatForgetsMesiboOkIsAFindingAndAReadFindingIsExpected(): void
    {
        $port = self::freePort();
        $router = tempnam(sys_get_temp_dir(), 'router') . '.php';
        file_put_contents($router, "<?php echo 'ok';"); // a handler that forgot MESIBO OK
        $handler = proc_open([PHP_BINARY, '-S', "127.0.0.1:$port", $router], [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
        try {
            self::waitForPort($port);
            $app = self::$mock->createApp(['strict' => true]);
            $app->setWebhook("http://127.0.0.1:$port/hook");
            $app->setOnline('ann', true);
            $app->waitForWebhookAttempts();
            try {
                $app->close();
                $this->fail('close() did not throw');
            } catch (StrictModeException $error) {
                $this->assertStringContainsString('webhook delivery #1 attempt 1: the webhook handler', $error->getMessage());
                $this->assertStringContainsString('MESIBO OK', $error->getMessage());
            }
        } finally {
            proc_terminate($handler);
            proc_close($handler);
            unlink($router);
        }
        $expecting = self::$mock->createApp(['strict' => true]);
        $expecting->backend('pushset', ['push' => ['sounds' => true]]);
        $this->assertSame('push.sounds', $expecting->mistakes()[0]['field']);
        $expecting->close(); // read, so expected
        $later = self::$mock->createApp(['strict' => true]);
        $later->backend('pushset', ['push' => ['sounds' => true]]);
        $later->mistakes();
        $later->backend('groupadd', ['group' => ['nmae' => 'g']]);
        try {
            $later->close();
            $this->fail('close() did not throw');
        } catch (StrictModeException $error) {
            $this->assertStringContainsString('group.nmae', $error->getMessage());
            $this->assertStringNotContainsString('push.sounds', $error->getMessage());
        }
    }

    public function testAReceiverAnswersMesiboOkAnd413PastOneMebibyte(): void
    {
        $receiver = WebhookReceiver::start();
        try {
            [$status, $body] = self::post($receiver->url(), json_encode(['events' => [['type' => 'user']]]));
            $this->assertSame([200, 'MESIBO OK'], [$status, $body]);
            [$status] = self::post($receiver->url(), str_repeat('x', 1048577));
            $this->assertSame(413, $status);
            $this->assertCount(1, $receiver->posts());
        } finally {
            $receiver->close();
        }
    }

    public function testStartFindsTheVenvInAParentFolder(): void
    {
        $project = sys_get_temp_dir() . '/mesibo-project-' . bin2hex(random_bytes(4));
        mkdir("$project/.venv/bin", 0700, true);
        [$command] = MesiboMock::findServer();
        symlink($command[0], "$project/.venv/bin/mesibo-mock");
        mkdir("$project/packages/api/tests", 0700, true);
        try {
            $out = self::childStart("$project/packages/api/tests");
            $this->assertMatchesRegularExpression('#^STARTED http://127\.0\.0\.1:\d+#', $out);
        } finally {
            exec('rm -rf ' . escapeshellarg($project));
        }
    }

    public function testWhenNothingIsFoundTheErrorNamesEveryPlace(): void
    {
        $empty = sys_get_temp_dir() . '/mesibo-empty-' . bin2hex(random_bytes(4));
        mkdir($empty, 0700);
        try {
            $out = self::childStart($empty);
            $this->assertStringContainsString('FAILED mesibo-mock could not be started. Tried:', $out);
            $this->assertStringContainsString('MESIBO_MOCK_BIN (not set)', $out);
            $this->assertStringContainsString('mesibo-mock on PATH (not found)', $out);
            $this->assertStringContainsString(".venv/bin/mesibo-mock in $empty and its parents (not found)", $out);
            $this->assertMatchesRegularExpression('/python3 -m mesibo_mock \(exited with status 1: .*No module named mesibo_mock/', $out);
            $this->assertStringContainsString('python3 -m venv .venv && .venv/bin/pip install', $out);
        } finally {
            rmdir($empty);
        }
    }

    public function testAServerEndsWhenItsTestProcessIsKilled(): void
    {
        $script = 'require ' . var_export(dirname(__DIR__) . '/autoload.php', true) . ';'
            . '$m = MesiboMock\MesiboMock::start(); echo "URL " . $m->url() . "\n"; sleep(60);';
        $child = proc_open([PHP_BINARY, '-r', $script], [1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
        $line = (string) fgets($pipes[1]);
        $this->assertMatchesRegularExpression('#^URL http://127\.0\.0\.1:(\d+)#', $line);
        $url = trim(substr($line, 4));
        $this->assertSame('ok', MesiboMock::connect($url)->health()['status']);
        proc_terminate($child, 9); // SIGKILL: no shutdown function runs
        proc_close($child);
        $deadline = microtime(true) + 10;
        $gone = false;
        while (!$gone && microtime(true) < $deadline) {
            try {
                MesiboMock::connect($url);
                usleep(50000);
            } catch (MesiboMockError $error) {
                $gone = true;
            }
        }
        $this->assertTrue($gone, 'the server outlived its test process');
    }

    public function testTheTraitNamesAppsAfterTheirTestAndPrintsTheReportOfAFailedOne(): void
    {
        $phpunit = getenv('PHPUNIT_BIN') ?: 'phpunit';
        $command = [$phpunit, '--bootstrap', dirname(__DIR__) . '/autoload.php', __DIR__ . '/fixtures/ReportCase.php'];
        $process = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, getenv());
        $output = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        $this->assertSame(1, proc_close($process), $output);
        $this->assertMatchesRegularExpression('/Tests: 3, Assertions: \d+, Failures: 1\./', $output);
        $this->assertStringContainsString('mesibo-mock: backend calls during ReportCase::testFailsAndItsCallsAreReported', $output);
        $this->assertMatchesRegularExpression('#\#\d+ /backend op=useradd \(json\) -> ok#', $output);
        $this->assertStringNotContainsString('testExpectsAFinding', $output);
    }

    private static function childStart(string $cwd): string
    {
        $env = getenv();
        unset($env['MESIBO_MOCK_BIN'], $env['MESIBO_MOCK_URL']);
        $env['PATH'] = '/usr/bin:/bin';
        $script = 'require ' . var_export(dirname(__DIR__) . '/autoload.php', true) . ';'
            . 'try { $m = MesiboMock\MesiboMock::start(["startupTimeout" => 30]); echo "STARTED " . $m->url(); $m->stop(); }'
            . ' catch (MesiboMock\MesiboMockError $e) { echo "FAILED " . $e->getMessage(); }';
        $process = proc_open([PHP_BINARY, '-r', $script], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, $cwd, $env);
        $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        proc_close($process);
        return $out;
    }

    /** @return array{0: int, 1: string} */
    private static function post(string $url, string $body): array
    {
        $curl = curl_init($url);
        curl_setopt_array($curl, [CURLOPT_POST => true, CURLOPT_POSTFIELDS => $body, CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HTTPHEADER => ['Content-Type: application/json', 'Expect:']]);
        $answer = (string) curl_exec($curl);
        $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        curl_close($curl);
        return [$status, $answer];
    }

    private static function freePort(): int
    {
        $server = stream_socket_server('tcp://127.0.0.1:0');
        $name = (string) stream_socket_get_name($server, false);
        fclose($server);
        return (int) substr($name, strrpos($name, ':') + 1);
    }

    private static function waitForPort(int $port): void
    {
        $deadline = microtime(true) + 10;
        while (!($socket = @fsockopen('127.0.0.1', $port, $errno, $error, 0.2)) && microtime(true) < $deadline) {
            usleep(20000);
        }
        if ($socket) {
            fclose($socket);
        }
    }
}
