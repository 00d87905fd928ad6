<?php

declare(strict_types=1);

namespace MesiboMock;

/**
 * The helpers every client of mesibo-mock shares (docs/clients.md holds the table, and a test holds
 * Python, Node, PHP and Java to it), in camelCase, acting on one app (its token): MesiboMock's for the
 * server's app `default`, App's for an app of a test's own. Filters are arrays
 * (`requests(['op' => 'useradd'])`); a list or a clearing takes ['allApps' => true] to act on every app;
 * records are the server's own arrays.
 */
abstract class Helpers
{
    private const MAX_WAIT_SECONDS = 60; // the server's longest long-poll; a longer timeout is several
    /** Option names (the Python keyword names in camelCase) -> the server's. */
    private const NAMES = ['pushToken' => 'push_token', 'pushId' => 'push_id', 'from_' => 'from'];

    /** @var Http */
    protected $http;
    /** @var string */
    protected $appToken;
    /** @var WebhookReceiver[] */
    protected $receivers = [];
    /** @var string|null where the findings a test read with mistakes() end */
    protected $mistakesSeen;

    protected function __construct(Http $http, string $appToken)
    {
        $this->http = $http;
        $this->appToken = $appToken;
    }

    public function token(): string
    {
        return $this->appToken;
    }

    /** The same token, by the name MesiboMock used first. */
    public function appToken(): string
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

    protected function appPath(string $rest = ''): string
    {
        return '/_mock/apps/' . rawurlencode($this->appToken) . $rest;
    }

    /** The query of a list or a clearing: this app's, unless ['allApps' => true] or a token is given. */
    protected function scope(array $filters = []): array
    {
        $all = !empty($filters['allApps']);
        unset($filters['allApps']);
        $query = [];
        foreach ($filters as $key => $value) {
            $query[self::NAMES[$key] ?? $key] = $value;
        }
        if (!$all && !isset($query['token'])) {
            $query['token'] = $this->appToken;
        }
        return $query;
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
                throw new MesiboMockError("give ['type' => 'fcm'|'apn'] or a filename with credential bytes");
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
            throw new MesiboMockError('message refused: ' . json_encode($answer));
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
        return $this->http->request('POST', $this->appPath('/devices'), [], $body);
    }

    public function devices(?string $address = null): array
    {
        return $this->http->request('GET', $this->appPath('/devices'), ['address' => $address])['devices'];
    }

    /** Mark a user online (messages reach it without a push) or offline. */
    public function setOnline(string $address, bool $online = true): array
    {
        return $this->http->request('PUT', $this->appPath('/users/' . rawurlencode($address) . '/online'), [], ['online' => $online]);
    }

    public function users(): array
    {
        return $this->http->request('GET', $this->appPath('/users'))['users'];
    }

    public function groups(): array
    {
        return $this->http->request('GET', $this->appPath('/groups'))['groups'];
    }

    /** Forget a device (its id as registerDevice() and devices() show it). */
    public function removeDevice(int $id): void
    {
        $this->http->request('DELETE', $this->appPath("/devices/$id"));
    }

    /** The one-time codes the `otp` op made, newest first (where a real app sends an SMS). */
    public function otps(?string $address = null): array
    {
        $otps = $this->http->request('GET', '/_mock/otps', ['token' => $this->appToken])['otps'];
        return array_values(array_filter($otps, static function (array $otp) use ($address): bool {
            return $address === null || $otp['address'] === $address;
        }));
    }

    /** One UAC (`uacset`) of the app, whole. */
    public function uac(int $id): array
    {
        return $this->http->request('GET', $this->appPath("/uacs/$id"));
    }

    /** The app as GET /_mock/apps/{token} shows it (credentials without keys, options, webhook). */
    public function app(): array
    {
        return $this->http->request('GET', $this->appPath());
    }

    /** Disable the app as Mesibo does on a token breach (every call answers TOKENBREACH), or lift it. */
    public function setDisabled(bool $disabled = true): array
    {
        return $this->http->request('PUT', $this->appPath(), [], ['disabled' => $disabled]);
    }

    /** Empty this app (users, groups, messages, devices, records, journal, faults); keep its token,
     * credentials, options, webhook and UACs. */
    public function resetApp(): array
    {
        return $this->http->request('POST', $this->appPath('/reset'), [], new \stdClass());
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

    public function clearPushes(array $options = []): array
    {
        return $this->http->request('DELETE', '/_mock/pushes', $this->scope($options));
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

    /** A message's life on the emulator clock, as the dashboard draws it (`#messages/{mid}`). */
    public function timeline(int $mid): array
    {
        return $this->http->request('GET', "/_mock/messages/$mid/timeline");
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

    /** Each POST to the app's webhook (one per request or timer round), newest first, with its state. */
    public function deliveries(array $filters = []): array
    {
        return $this->records('deliveries', $filters);
    }

    public function waitForDeliveries(array $options = []): array
    {
        return $this->waitFor('deliveries', 'webhook deliveries', $options);
    }

    /** Every attempt to POST to the app's webhook, newest first, with what went wrong. */
    public function webhookAttempts(array $filters = []): array
    {
        return $this->records('webhooks', $filters, 30.0, 'deliveries');
    }

    public function waitForWebhookAttempts(array $options = []): array
    {
        return $this->waitFor('webhooks', 'webhook attempt(s)', $options, 'deliveries');
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

    /** One journal entry, whole. */
    public function request(int $id): array
    {
        return $this->http->request('GET', "/_mock/requests/$id");
    }

    public function clearRequests(array $options = []): array
    {
        return $this->http->request('DELETE', '/_mock/requests', $this->scope($options));
    }

    /** The newest journal id: pass it as 'after' to look only at what comes next. */
    public function lastRequestId(array $options = []): int
    {
        $newest = $this->requests(['limit' => 1] + $options);
        return $newest ? (int) $newest[0]['id'] : 0;
    }

    /**
     * Strict mode's findings (GET /_mock/mistakes): unknown ops, fields no op reads, webhook deliveries
     * not answered MESIBO OK, each with its text. What a test reads here is expected: strict mode fails
     * it only for later ones.
     */
    public function mistakes(array $options = []): array
    {
        $answer = $this->mistakesAnswer($options);
        $this->mistakesSeen = $answer['seen'] ?? null;
        return $answer['mistakes'];
    }

    /** The text a strict test fails with; null when there is nothing to say. */
    public function mistakesReport(array $options = []): ?string
    {
        return $this->mistakesAnswer($options)['report'];
    }

    /** What strict mode fails a test for: the mistakes the test did not read with mistakes(); null if none. */
    public function unexpectedMistakes(array $options = []): ?string
    {
        return $this->mistakesAnswer($options + ['seen' => $this->mistakesSeen])['report'];
    }

    /** What a failed test's report shows: each backend call (after 'after'), its answer and diagnosis,
     * then strict mode's findings (GET /_mock/report). */
    public function report(array $options = []): string
    {
        return (string) $this->http->request('GET', '/_mock/report', $this->scope($options), null, null, true);
    }

    private function mistakesAnswer(array $options): array
    {
        return $this->http->request('GET', '/_mock/mistakes', $this->scope($options));
    }

    private function records(string $kind, array $filters, float $timeout = 30.0, ?string $key = null): array
    {
        return $this->http->request('GET', "/_mock/$kind", $this->scope($filters), null, null, false, $timeout)[$key ?? $kind];
    }

    private function waitFor(string $kind, string $what, array $options, ?string $key = null): array
    {
        $count = (int) ($options['count'] ?? 1);
        $timeout = (float) ($options['timeout'] ?? 10);
        unset($options['count'], $options['timeout']);
        $deadline = microtime(true) + $timeout;
        $limit = max($count, (int) ($options['limit'] ?? 100));
        while (true) {
            $wait = min(max(0.0, $deadline - microtime(true)), self::MAX_WAIT_SECONDS);
            $found = $this->records($kind, ['limit' => $limit, 'count' => $count, 'wait' => round($wait, 3)] + $options, $wait + 30, $key);
            if (count($found) >= $count) {
                return $found;
            }
            if (microtime(true) >= $deadline) {
                throw new MesiboMockError(sprintf('expected %d %s matching %s, found %d', $count, $what, json_encode($options), count($found)));
            }
        }
    }

    // --- steering -------------------------------------------------------------------------------------
    /** Make the next pushes fail as FCM or APNs would. Target: address, pushToken, count (null: until removed). */
    public function injectFault(string $error, array $target = []): array
    {
        return $this->http->request('POST', '/_mock/faults', [], ['error' => $error] + $this->scope($target));
    }

    public function faults(array $options = []): array
    {
        return $this->http->request('GET', '/_mock/faults', $this->scope($options))['faults'];
    }

    public function removeFault(int $id): void
    {
        $this->http->request('DELETE', "/_mock/faults/$id");
    }

    public function clearFaults(array $options = []): array
    {
        return $this->http->request('DELETE', '/_mock/faults', $this->scope($options));
    }

    /** Make the next backend calls answer with an error row, a bare HTTP status or a delay (op, http, delay, count). */
    public function backendFault(?string $error = null, array $options = []): array
    {
        $count = array_key_exists('count', $options) ? $options['count'] : 1;
        unset($options['count']);
        $body = array_filter(['error' => $error] + $this->scope($options), static function ($value): bool {
            return $value !== null;
        });
        $body['count'] = $count;
        return $this->http->request('POST', '/_mock/backend-faults', [], $body);
    }

    public function backendFaults(array $options = []): array
    {
        return $this->http->request('GET', '/_mock/backend-faults', $this->scope($options))['faults'];
    }

    public function removeBackendFault(int $id): void
    {
        $this->http->request('DELETE', "/_mock/backend-faults/$id");
    }

    public function clearBackendFaults(array $options = []): array
    {
        return $this->http->request('DELETE', '/_mock/backend-faults', $this->scope($options));
    }

    /** Options: secret, events (any of push, message, user). */
    public function setWebhook(string $url, array $options = []): array
    {
        return $this->http->request('PUT', $this->appPath('/webhook'), [], ['url' => $url] + $options);
    }

    /** The app sends no more events (deliveries still pending are cancelled). */
    public function removeWebhook(): void
    {
        $this->http->request('DELETE', $this->appPath('/webhook'));
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
