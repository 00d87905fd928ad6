<?php

declare(strict_types=1);

/**
 * A chat backend's own code: what calls Mesibo's backend API. In production the URL is
 * https://api.mesibo.com/backend; under test it is the emulator's. Nothing here knows about tests.
 */
final class ChatBackend
{
    /** @var string */
    private $url;
    /** @var string */
    private $token;

    public function __construct(string $url, string $token)
    {
        $this->url = $url;
        $this->token = $token;
    }

    public function signUp(string $phone, string $name): array
    {
        return $this->call('useradd', ['user' => ['address' => $phone, 'name' => $name]])['user'];
    }

    public function send(string $from, string $to, string $text): int
    {
        return $this->call('message', ['message' => ['from' => $from, 'to' => $to, 'message' => $text]])['mid'];
    }

    /** A typo Mesibo answers with result: true and ignores: "backgroud" is not a push option. */
    public function preferAlerts(): void
    {
        $this->call('pushset', ['push' => ['backgroud' => false]]);
    }

    private function call(string $op, array $fields): array
    {
        $curl = curl_init($this->url);
        curl_setopt_array($curl, [
            CURLOPT_POST => true,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HTTPHEADER => ['Content-Type: application/json'],
            CURLOPT_POSTFIELDS => json_encode(['op' => $op, 'token' => $this->token] + $fields),
        ]);
        $answer = json_decode((string) curl_exec($curl), true);
        curl_close($curl);
        if (empty($answer['result'])) {
            throw new RuntimeException("Mesibo refused $op: " . ($answer['error'] ?? 'no answer'));
        }
        return $answer;
    }
}
