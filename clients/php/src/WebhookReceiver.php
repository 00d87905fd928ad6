<?php

declare(strict_types=1);

namespace MesiboMock;

/**
 * A local webhook receiver: PHP's built-in server in a child process answers `MESIBO OK` and records
 * every POST, so a test can assert on what its backend's webhook would receive.
 */
final class WebhookReceiver
{
    /** @var resource */
    private $process;
    /** @var string */
    private $url;
    /** @var string */
    private $log;

    private function __construct($process, string $url, string $log)
    {
        $this->process = $process;
        $this->url = $url;
        $this->log = $log;
    }

    public static function start(float $timeout = 10.0): self
    {
        $port = self::freePort();
        $log = (string) tempnam(sys_get_temp_dir(), 'mesibo-mock-webhook-');
        $command = [PHP_BINARY, '-S', "127.0.0.1:$port", __DIR__ . '/receiver-router.php'];
        $env = ['MESIBO_MOCK_RECEIVER_LOG' => $log, 'PATH' => (string) getenv('PATH')];
        $null = ['file', '/dev/null', 'w'];
        $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => $null, 2 => $null], $pipes, null, $env);
        if (!is_resource($process)) {
            throw new MesiboMockError('could not start the webhook receiver (php -S)');
        }
        $deadline = microtime(true) + $timeout;
        while (!($socket = @fsockopen('127.0.0.1', $port, $errno, $error, 0.2))) {
            if (microtime(true) > $deadline || !proc_get_status($process)['running']) {
                proc_terminate($process);
                throw new MesiboMockError("the webhook receiver did not listen on port $port");
            }
            usleep(20000);
        }
        fclose($socket);
        return new self($process, "http://127.0.0.1:$port/mesibo-webhook", $log);
    }

    private static function freePort(): int
    {
        $server = stream_socket_server('tcp://127.0.0.1:0');
        $name = stream_socket_get_name($server, false);
        fclose($server);
        return (int) substr((string) $name, strrpos((string) $name, ':') + 1);
    }

    public function url(): string
    {
        return $this->url;
    }

    /** Every POST body received, oldest first: Mesibo's v2 envelope. */
    public function posts(): array
    {
        $lines = is_file($this->log) ? file($this->log, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) : [];
        return array_map(static function (string $line): array {
            $body = base64_decode($line);
            $decoded = json_decode($body, true);
            return is_array($decoded) ? $decoded : ['unreadable' => substr($body, 0, 200)];
        }, $lines ?: []);
    }

    /** Every event received, oldest first; $type: only user, message or push events. */
    public function events(?string $type = null): array
    {
        $events = [];
        foreach ($this->posts() as $post) {
            foreach ($post['events'] ?? [] as $event) {
                if ($type === null || ($event['type'] ?? null) === $type) {
                    $events[] = $event;
                }
            }
        }
        return $events;
    }

    /** Options: count (1), type, timeout in seconds (10). Returns the events, oldest first. */
    public function waitForEvents(array $options = []): array
    {
        $count = (int) ($options['count'] ?? 1);
        $type = $options['type'] ?? null;
        $deadline = microtime(true) + (float) ($options['timeout'] ?? 10);
        while (count($found = $this->events($type)) < $count) {
            if (microtime(true) >= $deadline) {
                throw new MesiboMockError(sprintf('the webhook received %d %s event(s), expected %d', count($found), $type ?? '', $count));
            }
            usleep(20000);
        }
        return $found;
    }

    public function clear(): void
    {
        file_put_contents($this->log, '', LOCK_EX);
    }

    public function close(): void
    {
        if (is_resource($this->process)) {
            proc_terminate($this->process);
            proc_close($this->process);
        }
        @unlink($this->log);
    }
}
