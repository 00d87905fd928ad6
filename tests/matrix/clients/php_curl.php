<?php
// PHP's curl extension at its defaults: past 1 KB a POST waits for `100 Continue` (Expect: 100-continue).
$url = getenv('MATRIX_BACKEND'); $token = getenv('MATRIX_TOKEN'); $address = getenv('MATRIX_ADDRESS');
function call($name, $url, $options) {
    $ch = curl_init($url);
    curl_setopt_array($ch, $options + [CURLOPT_RETURNTRANSFER => true]);
    $body = curl_exec($ch);
    if ($body === false) { fwrite(STDERR, curl_error($ch) . "\n"); exit(1); }
    echo $name, ' ', curl_getinfo($ch, CURLINFO_RESPONSE_CODE), ' ', $body, "\n";
    curl_close($ch);
}
call('json', $url, [CURLOPT_POST => true, CURLOPT_HTTPHEADER => ['Content-Type: application/json'],
    CURLOPT_POSTFIELDS => json_encode(['op' => 'useradd', 'token' => $token, 'user' => ['address' => $address, 'name' => 'json']])]);
call('form', $url, [CURLOPT_POST => true,
    CURLOPT_POSTFIELDS => http_build_query(['op' => 'userset', 'token' => $token, 'addr' => $address, 'name' => 'form'])]);
call('query', $url . '?' . http_build_query(['op' => 'usersget', 'token' => $token, 'addr' => $address]), []);
call('multipart', $url, [CURLOPT_POST => true, CURLOPT_POSTFIELDS => ['op' => 'pushupload', 'token' => $token,
    'file' => new CURLFile(getenv('MATRIX_FILE'), 'application/json', 'fcm.json')]]);
