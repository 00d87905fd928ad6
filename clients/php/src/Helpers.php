<?php

declare(strict_types=1);

namespace MesiboMock;

/**
 * The helpers of the Python MesiboMock in camelCase, acting on one app (its token): MesiboMock's for the
 * server's app `default`, App's for an app of a test's own. Filters are arrays
 * (`requests(['op' => 'useradd'])`); records are the server's own arrays.
 */
abstract class Helpers
{
    private const MAX_WAIT_SECONDS = 60; // the server's longest long-poll; a longer timeout is several
    /** Option names (the Python keyword names in camelCase) -> the server's. */
    private const NAMES = ['pushToken' => 'push_token', 'from_' => 'from'];

    /** @var Http */
    protected $http;
    /** @var string */
    protected $appToken;
    /** @var WebhookReceiver[] */
    protected $receivers = [];

    protected function __construct(Http $http, string $appToken)
    {
        $this->http = $http;
        $this->appToken = $appToken;
    }

    public function token(): string
    {
        return $this->appToken;
    }

    public function url(): string
    {
        return $this->http->url();
    }

    public function backendUrl(): string
    {
        return $this->http->url() . '/backend';
    }

    // --- the Mesibo backend -------------------------------------------------------------------------
    /** POST one op as JSON with this app's token; Mesibo's envelope (result true or false). */
    public function backend(string $op, array $fields = []): array
    {
        return $this->http->request('POST', '/backend', [], ['op' => $op, 'token' => $this->appToken] + $fields);
    }

    /**
     * A real multipart pushupload. `$credential` is a file's path, or its bytes with ['type' => 'fcm'|'apn']
     * or ['filename' => ...].
     */
    public function uploadCredential(string $credential, array $options = []): array
    {
        $type = $options['type'] ?? null;
        $filename = $options['filename'] ?? null;
        $isPath = strlen($credential) < 4096 && strpos($credential, "\0") === false && is_file($credential);
        if ($isPath) {
            $content = (string) file_get_contents($credential);
            $filename = $filename ?? basename($credential);
        } else {
            $content = $credential;
            $filename = $filename ?? (['fcm' => 'credential.json', 'apn' => 'credential.p12'][strtolower((string) $type)] ?? null);
            if ($filename === null) {
                throw new MesiboMockException("give ['type' => 'fcm'|'apn'] or a filename with credential bytes");
            }
        }
        $fields = ['op' => 'pushupload', 'token' => $this->appToken, 'file' => self::filePart($content, $filename)];
        if ($type !== null) {
            $fields['type'] = $type;
        }
        return $this->http->request('POST', '/backend', [], null, $fields);
    }

    /** @return \CURLFile|\CURLStringFile */
    private static function filePart(string $content, string $filename)
    {
        if (class_exists(\CURLStringFile::class)) { // PHP 8.1
            return new \CURLStringFile($content, $filename, 'application/octet-stream');
        }
        $path = tempnam(sys_get_temp_dir(), 'mesibo-mock-upload-');
        file_put_contents($path, $content);
        register_shutdown_function(static function () use ($path): void {
            @unlink($path);
        });
        return new \CURLFile($path, 'application/octet-stream', $filename);
    }

    public function pushdebug(?int $duration = null): array
    {
        return $this->backend('pushdebug', ['push' => $duration === null ? new \stdClass() : ['duration' => $duration]]);
    }

    /** Send a message as a chat backend would; its mid. `$to` null with ['gid' => ...] for a group. */
    public function sendMessage(string $from, ?string $to, string $message = '', array $extra = []): int
    {
        $body = ['from' => $from, 'message' => $message] + $extra;
        if ($to !== null) {
            $body['to'] = $to;
        }
        $answer = $this->backend('message', ['message' => $body]);
        if (empty($answer['result'])) {
            throw new MesiboMockException('message refused: ' . json_encode($answer));
        }
        return (int) $answer['mid'];
    }

    // --- devices, users, groups -----------------------------------------------------------------------
    /**
     * Stand in for Mesibo's SDK on a phone: options platform (android), appid, pushToken, voip, sandbox,
     * responds. iOS tokens default to 64 hex digits, as APNs issues them.
     */
    public function registerDevice(string $address, array $options = []): array
    {
        $platform = $options['platform'] ?? 'android';
        $pushToken = $options['pushToken'] ?? ($platform === 'ios' ? bin2hex(random_bytes(32)) : 'fcm-' . bin2hex(random_bytes(12)));
        $body = ['address' => $address, 'platform' => $platform, 'appid' => $options['appid'] ?? 'com.example.app', 'push_token' => $pushToken];
        foreach (['voip', 'sandbox', 'responds'] as $flag) {
            if (array_key_exists($flag, $options)) {
                $body[$flag] = (bool) $options[$flag];
            }
        }
        return $this->http->request('POST', "/_mock/apps/{$this->appToken}/devices", [], $body);
    }

    public function devices(?string $address = null): array
    {
        return $this->http->request('GET', "/_mock/apps/{$this->appToken}/devices", ['address' => $address])['devices'];
    }

    /** Mark a user online (messages reach it without a push) or offline. */
    public function setOnline(string $address, bool $online = true): array
    {
        return $this->http->request('PUT', "/_mock/apps/{$this->appToken}/users/" . rawurlencode($address) . '/online', [], ['online' => $online]);
    }

    public function users(): array
    {
        return $this->http->request('GET', "/_mock/apps/{$this->appToken}/users")['users'];
    }

    public function groups(): array
    {
        return $this->http->request('GET', "/_mock/apps/{$this->appToken}/groups")['groups'];
    }

    public function app(): array
    {
        return $this->http->request('GET', "/_mock/apps/{$this->appToken}");
    }

    // --- what happened: records, newest first; a wait is the server's long-poll with `count` ----------
    public function pushes(array $filters = []): array
    {
        return $this->records('pushes', $filters);
    }

    /** Options: count (1), timeout in seconds (10), and any filter of pushes(). */
    public function waitForPushes(array $options = []): array
    {
        return $this->waitFor('pushes', 'push(es)', $options);
    }

    public function push(int $id): array
    {
        return $this->http->request('GET', "/_mock/pushes/$id");
    }

    public function ack(int $id): array
    {
        return $this->http->request('POST', "/_mock/pushes/$id/ack", [], new \stdClass());
    }

    public function clearPushes(): array
    {
        return $this->http->request('DELETE', '/_mock/pushes', ['token' => $this->appToken]);
    }

    public function messages(array $filters = []): array
    {
        return $this->records('messages', $filters);
    }

    public function waitForMessages(array $options = []): array
    {
        return $this->waitFor('messages', 'message(s)', $options);
    }

    public function message(int $mid): array
    {
        return $this->http->request('GET', "/_mock/messages/$mid");
    }

    /** The events sent to the app's webhook (user, message, push), newest first. */
    public function events(array $filters = []): array
    {
        return $this->records('events', $filters);
    }

    public function waitForEvents(array $options = []): array
    {
        return $this->waitFor('events', 'event(s)', $options);
    }

    /** The request journal: every backend call, what was read, the answer and the diagnosis. */
    public function requests(array $filters = []): array
    {
        return $this->records('requests', $filters);
    }

    public function waitForRequests(array $options = []): array
    {
        return $this->waitFor('requests', 'backend call(s)', $options);
    }

    /** Strict mode's findings (GET /_mock/mistakes): unknown ops and fields no op reads, each with its text. */
    public function mistakes(array $options = []): array
    {
        return $this->mistakesAnswer($options)['mistakes'];
    }

    /** The text a strict test fails with; null when there is nothing to say. */
    public function mistakesReport(array $options = []): ?string
    {
        return $this->mistakesAnswer($options)['report'];
    }

    private function mistakesAnswer(array $options): array
    {
        return $this->http->request('GET', '/_mock/mistakes', ['token' => $this->appToken, 'after' => $options['after'] ?? null]);
    }

    private function records(string $kind, array $filters, float $timeout = 30.0): array
    {
        $query = ['token' => $this->appToken];
        foreach ($filters as $key => $value) {
            $query[self::NAMES[$key] ?? $key] = $value;
        }
        return $this->http->request('GET', "/_mock/$kind", $query, null, null, false, $timeout)[$kind];
    }

    private function waitFor(string $kind, string $what, array $options): array
    {
        $count = (int) ($options['count'] ?? 1);
        $timeout = (float) ($options['timeout'] ?? 10);
        unset($options['count'], $options['timeout']);
        $deadline = microtime(true) + $timeout;
        $limit = max($count, (int) ($options['limit'] ?? 100));
        while (true) {
            $wait = min(max(0.0, $deadline - microtime(true)), self::MAX_WAIT_SECONDS);
            $found = $this->records($kind, ['limit' => $limit, 'count' => $count, 'wait' => round($wait, 3)] + $options, $wait + 30);
            if (count($found) >= $count) {
                return $found;
            }
            if (microtime(true) >= $deadline) {
                throw new MesiboMockException(sprintf('expected %d %s matching %s, found %d', $count, $what, json_encode($options), count($found)));
            }
        }
    }

    // --- steering -------------------------------------------------------------------------------------
    /** Make the next pushes fail as FCM or APNs would. Target: address, pushToken, count (null: until removed). */
    public function injectFault(string $error, array $target = []): array
    {
        $body = ['error' => $error, 'token' => $this->appToken];
        foreach ($target as $key => $value) {
            $body[self::NAMES[$key] ?? $key] = $value;
        }
        return $this->http->request('POST', '/_mock/faults', [], $body);
    }

    public function clearFaults(): array
    {
        return $this->http->request('DELETE', '/_mock/faults');
    }

    /** Make the next backend calls answer with an error row, a bare HTTP status or a delay (op, http, delay, count). */
    public function backendFault(?string $error = null, array $options = []): array
    {
        $body = array_filter(['error' => $error, 'token' => $this->appToken] + $options, static function ($value): bool {
            return $value !== null;
        });
        $body['count'] = array_key_exists('count', $options) ? $options['count'] : 1;
        return $this->http->request('POST', '/_mock/backend-faults', [], $body);
    }

    public function clearBackendFaults(): array
    {
        return $this->http->request('DELETE', '/_mock/backend-faults');
    }

    /** Options: secret, events (any of push, message, user). */
    public function setWebhook(string $url, array $options = []): array
    {
        return $this->http->request('PUT', "/_mock/apps/{$this->appToken}/webhook", [], ['url' => $url] + $options);
    }

    /** A local receiver that answers MESIBO OK and records what it gets, set as this app's webhook. */
    public function webhookReceiver(array $options = []): WebhookReceiver
    {
        $receiver = WebhookReceiver::start();
        $this->receivers[] = $receiver;
        $this->setWebhook($receiver->url(), $options);
        return $receiver;
    }

    // The clock belongs to the server: every app of it sees the same time.
    public function clock(): array
    {
        return $this->http->request('GET', '/_mock/clock');
    }

    public function advance(float $seconds): array
    {
        return $this->http->request('POST', '/_mock/clock', [], ['advance' => $seconds]);
    }

    public function setClock(string $iso): array
    {
        return $this->http->request('POST', '/_mock/clock', [], ['set' => $iso]);
    }

    public function freeze(bool $frozen = true): array
    {
        return $this->http->request('POST', '/_mock/clock', [], ['freeze' => $frozen]);
    }

    public function realTime(): array
    {
        return $this->http->request('POST', '/_mock/clock', [], ['real' => true]);
    }

    public function health(): array
    {
        return $this->http->request('GET', '/_mock/health');
    }

    public function samples(): array
    {
        return $this->http->request('GET', '/_mock/samples')['samples'];
    }

    /** A sample credential file's bytes (fcm.json, apn-universal.p12, ...), as the server makes it. */
    public function sample(string $name): string
    {
        return $this->http->request('GET', '/_mock/samples/' . rawurlencode($name), [], null, null, true);
    }

    protected function closeReceivers(): void
    {
        foreach ($this->receivers as $receiver) {
            $receiver->close();
        }
        $this->receivers = [];
    }
}
