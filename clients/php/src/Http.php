<?php

declare(strict_types=1);

namespace MesiboMock;

/**
 * JSON over HTTP with ext-curl: the one place the package talks to the server.
 */
final class Http
{
    /** @var string */
    private $url;
    /** @var array<int, string> */
    private $headers;

    public function __construct(string $url, ?string $adminToken = null)
    {
        $url = rtrim($url, '/');
        if (substr($url, -8) === '/backend') {
            $url = substr($url, 0, -8);
        }
        $this->url = $url;
        $this->headers = $adminToken ? ['Authorization: Bearer ' . $adminToken] : [];
    }

    public function url(): string
    {
        return $this->url;
    }

    /**
     * @param array<string, mixed> $query
     * @param mixed $json a value to send as JSON (null: no body)
     * @param array<string, mixed>|null $multipart form fields (CURLFile or CURLStringFile for files)
     * @return mixed the decoded JSON answer (null for an empty one), or the raw bytes with $raw
     */
    public function request(string $method, string $route, array $query = [], $json = null, ?array $multipart = null, bool $raw = false, float $timeout = 30.0)
    {
        $target = $this->url . $route;
        $query = array_filter($query, static function ($value): bool {
            return $value !== null;
        });
        foreach ($query as $key => $value) {
            if (is_bool($value)) {
                $query[$key] = $value ? 'true' : 'false';
            }
        }
        if ($query) {
            $target .= '?' . http_build_query($query);
        }
        $headers = $this->headers;
        $curl = curl_init($target);
        curl_setopt_array($curl, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT_MS => (int) ($timeout * 1000),
            CURLOPT_CONNECTTIMEOUT_MS => 5000,
        ]);
        if ($json !== null) {
            $headers[] = 'Content-Type: application/json';
            curl_setopt($curl, CURLOPT_POSTFIELDS, json_encode($json, JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION));
        } elseif ($multipart !== null) {
            curl_setopt($curl, CURLOPT_POSTFIELDS, $multipart);
        }
        curl_setopt($curl, CURLOPT_HTTPHEADER, $headers);
        $body = curl_exec($curl);
        $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        $error = curl_error($curl);
        curl_close($curl);
        if ($body === false) {
            throw new MesiboMockError("$method $route: cannot reach mesibo-mock at {$this->url} ($error)");
        }
        if ($status >= 400) {
            throw new MesiboMockError("$method $route -> $status: $body", $status, (string) $body);
        }
        if ($raw) {
            return $body;
        }
        return $body === '' ? null : json_decode((string) $body, true, 512, JSON_THROW_ON_ERROR);
    }
}
