<?php

declare(strict_types=1);

namespace MesiboMock;

/**
 * A running mesibo-mock: started by this process, or connected to. Its helpers act on the server's app
 * `default`; createApp() gives a test an app of its own.
 *
 *     $mock = MesiboMock::start();                 // or MesiboMock::connect('http://mesibo:8000')
 *     $app = $mock->createApp(['credentials' => 'sample', 'strict' => true]);
 *     $app->registerDevice('bob');
 *     ... your code calls $app->backendUrl() with $app->token() ...
 *     $push = $app->waitForPushes(['address' => 'bob'])[0];
 *     $app->close();
 */
final class MesiboMock extends Helpers
{
    public const DEFAULT_APP_TOKEN = 'mesibo-mock-test-token';

    /** @var resource|null the server process, when this object started it */
    private $process;
    /** @var string|null */
    private $workdir;
    /** @var App[] */
    private $apps = [];
    /** @var self|null */
    private static $shared;

    private function __construct(Http $http, string $appToken, $process = null, ?string $workdir = null)
    {
        parent::__construct($http, $appToken);
        $this->process = $process;
        $this->workdir = $workdir;
    }

    /** The README's install, run where the tests run (a clone's folder now; `mesibo-mock` once published). */
    public const INSTALL = "python3 -m venv .venv && .venv/bin/pip install <mesibo-mock's folder>";

    /**
     * Run a server: the one at MESIBO_MOCK_URL if set (then it only connects), else MESIBO_MOCK_BIN, else
     * `mesibo-mock` on PATH, else `.venv/bin/mesibo-mock` in the working folder or a folder above it,
     * else `python3 -m mesibo_mock`. It ends with this process, however that ends (`--parent-pid`).
     * Options: mode, seed, env (MESIBO_MOCK_* settings, with or without the prefix), port (0: a free
     * one), appToken, logLevel, startupTimeout.
     */
    public static function start(array $options = []): self
    {
        $url = getenv('MESIBO_MOCK_URL');
        if ($url) {
            return self::connect($url, getenv('MESIBO_MOCK_ADMIN_TOKEN') ?: null);
        }
        $settings = [];
        foreach ($options['env'] ?? [] as $key => $value) {
            $settings[strpos($key, 'MESIBO_MOCK_') === 0 ? $key : 'MESIBO_MOCK_' . strtoupper($key)] = (string) $value;
        }
        if (isset($options['mode'])) {
            $settings['MESIBO_MOCK_MODE'] = $options['mode'];
        }
        if (isset($options['seed'])) {
            $settings['MESIBO_MOCK_SEED'] = realpath($options['seed']) ?: $options['seed'];
        }
        $settings['MESIBO_MOCK_APP_TOKEN'] = $options['appToken'] ?? self::DEFAULT_APP_TOKEN;
        $workdir = sys_get_temp_dir() . '/mesibo-mock-' . bin2hex(random_bytes(6));
        mkdir($workdir, 0700);
        $ready = "$workdir/ready.json";
        [$server, $tried] = self::findServer();
        $command = array_merge($server, [
            'serve', '--port', (string) ($options['port'] ?? 0), '--db', ':memory:',
            '--log-level', $options['logLevel'] ?? 'warning', '--ready-file', $ready,
            '--parent-pid', (string) getmypid(),
        ]);
        $log = "$workdir/server.log";
        $env = array_merge(getenv(), $settings);
        $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'w'], 2 => ['file', $log, 'a']], $pipes, null, $env);
        if (!is_resource($process)) {
            throw self::notStarted($tried, $server, 'could not start');
        }
        $deadline = microtime(true) + (float) ($options['startupTimeout'] ?? 20);
        while (!is_file($ready)) { // written whole, at once, when the server listens
            $status = proc_get_status($process);
            if (!$status['running'] || microtime(true) > $deadline) {
                proc_terminate($process, 9);
                $why = $status['running'] ? 'was not ready in time' : "exited with status {$status['exitcode']}";
                $said = trim((string) @file_get_contents($log));
                throw self::notStarted($tried, $server, $why . ($said ? ': ' . substr($said, -2000) : ''));
            }
            usleep(10000);
        }
        $record = json_decode((string) file_get_contents($ready), true, 16, JSON_THROW_ON_ERROR);
        $mock = new self(new Http($record['url'], $settings['MESIBO_MOCK_ADMIN_TOKEN'] ?? null), $record['app_token'], $process, $workdir);
        register_shutdown_function([$mock, 'stop']);
        return $mock;
    }

    /** Attach to a running server (a compose service, an image). Without $appToken, its app `default`. */
    public static function connect(string $url, ?string $adminToken = null, ?string $appToken = null): self
    {
        $http = new Http($url, $adminToken);
        $http->request('GET', '/_mock/health');
        if ($appToken === null) {
            $found = $http->request('GET', '/_mock/apps', ['name' => 'default', 'limit' => 1])['apps'][0]
                ?? $http->request('GET', '/_mock/apps', ['limit' => 1])['apps'][0] ?? null;
            if ($found === null) {
                throw new MesiboMockError("the server at {$http->url()} has no app; give an app token");
            }
            $appToken = $found['token'];
        }
        return new self($http, $appToken);
    }

    /** The server every test of this PHPUnit run shares (started at the first call, stopped at exit). */
    public static function shared(): self
    {
        if (self::$shared === null) {
            self::$shared = self::start();
        }
        return self::$shared;
    }

    /**
     * An app of the test's own. Options: name (the server makes one when none is given), token,
     * credentials ("sample", or sample names ['fcm' => 'fcm.json', 'apn' => ['apn-development.p12']]),
     * strict (close() throws for the mistakes the test did not read).
     */
    public function createApp(array $options = []): App
    {
        $body = new \stdClass();
        if (isset($options['name'])) {
            $body->name = substr((string) $options['name'], 0, 200);
        }
        if (isset($options['token'])) {
            $body->token = $options['token'];
        }
        $credentials = $options['credentials'] ?? null;
        if ($credentials !== null) {
            $body->credentials = $credentials === 'sample' ? ['fcm' => 'sample', 'apn' => 'sample'] : $credentials;
        }
        $app = new App($this->http, $this->http->request('POST', '/_mock/apps', [], $body), (bool) ($options['strict'] ?? false));
        $this->apps[] = $app;
        return $app;
    }

    /** The server's apps, oldest first (of this 'name', when given); at most 1,000. */
    public function apps(array $options = []): array
    {
        return $this->http->request('GET', '/_mock/apps', ['limit' => 1000, 'name' => $options['name'] ?? null])['apps'];
    }

    public function deleteApp(string $token): void
    {
        $this->http->request('DELETE', '/_mock/apps/' . rawurlencode($token));
    }

    /** Wipe the server (every app, record and fault): only for a server your tests own. */
    public function reset(): array
    {
        return $this->http->request('POST', '/_mock/reset', [], new \stdClass());
    }

    /** The server's log (a server this object started). */
    public function logs(): string
    {
        return $this->workdir ? (string) @file_get_contents("{$this->workdir}/server.log") : '';
    }

    /** Close what is still open and end the server if this process started it. */
    public function stop(): void
    {
        $this->closeReceivers();
        $this->apps = [];
        if (is_resource($this->process)) {
            proc_terminate($this->process); // SIGTERM: the server finishes what it was doing and exits 0
            $deadline = microtime(true) + 10;
            while (proc_get_status($this->process)['running'] && microtime(true) < $deadline) {
                usleep(10000);
            }
            if (proc_get_status($this->process)['running']) {
                proc_terminate($this->process, 9);
            }
            proc_close($this->process);
        }
        $this->process = null;
        if ($this->workdir !== null) {
            foreach (glob("{$this->workdir}/*") ?: [] as $file) {
                @unlink($file);
            }
            @rmdir($this->workdir);
            $this->workdir = null;
        }
        if (self::$shared === $this) {
            self::$shared = null;
        }
    }

    /**
     * The command that runs the server, and every place looked at on the way (for the error when none
     * works): MESIBO_MOCK_BIN, `mesibo-mock` on PATH, `.venv/bin/mesibo-mock` in the working folder and
     * its parents (the README's install), then `python3 -m mesibo_mock`.
     *
     * @return array{0: string[], 1: string[]}
     */
    public static function findServer(?string $cwd = null): array
    {
        $bin = getenv('MESIBO_MOCK_BIN');
        if ($bin) {
            return [preg_split('/\s+/', trim($bin)), ['MESIBO_MOCK_BIN']];
        }
        $tried = ['MESIBO_MOCK_BIN (not set)'];
        foreach (explode(PATH_SEPARATOR, (string) getenv('PATH')) as $folder) {
            $candidate = "$folder/mesibo-mock";
            if ($folder !== '' && is_file($candidate) && is_executable($candidate)) {
                return [[$candidate], $tried];
            }
        }
        $tried[] = 'mesibo-mock on PATH (not found)';
        $start = $cwd ?? (string) getcwd();
        for ($folder = $start; ; $folder = dirname($folder)) {
            $candidate = "$folder/.venv/bin/mesibo-mock";
            if (is_file($candidate) && is_executable($candidate)) {
                return [[$candidate], $tried];
            }
            if (dirname($folder) === $folder) {
                break;
            }
        }
        $tried[] = ".venv/bin/mesibo-mock in $start and its parents (not found)";
        return [['python3', '-m', 'mesibo_mock'], $tried];
    }

    /** @param string[] $tried @param string[] $command */
    private static function notStarted(array $tried, array $command, string $why): MesiboMockError
    {
        $places = array_merge($tried, [implode(' ', $command) . " ($why)"]);
        return new MesiboMockError(
            "mesibo-mock could not be started. Tried:\n  - " . implode("\n  - ", $places) . "\n"
            . 'Install it with the README\'s command (' . self::INSTALL . '), or set MESIBO_MOCK_BIN to its '
            . 'mesibo-mock (or MESIBO_MOCK_URL to a running server).'
        );
    }
}
