<?php
// Guzzle (Debian's php-guzzlehttp-guzzle) at its defaults: json, form_params, query and multipart options.
require '/usr/share/php/GuzzleHttp/autoload.php';
$url = getenv('MATRIX_BACKEND'); $token = getenv('MATRIX_TOKEN'); $address = getenv('MATRIX_ADDRESS');
$client = new GuzzleHttp\Client(['http_errors' => false]);
function show($name, $response) { echo $name, ' ', $response->getStatusCode(), ' ', $response->getBody(), "\n"; }
show('json', $client->post($url, ['json' => ['op' => 'useradd', 'token' => $token, 'user' => ['address' => $address, 'name' => 'json']]]));
show('form', $client->post($url, ['form_params' => ['op' => 'userset', 'token' => $token, 'addr' => $address, 'name' => 'form']]));
show('query', $client->get($url, ['query' => ['op' => 'usersget', 'token' => $token, 'addr' => $address]]));
show('multipart', $client->post($url, ['multipart' => [
    ['name' => 'op', 'contents' => 'pushupload'],
    ['name' => 'token', 'contents' => $token],
    ['name' => 'file', 'contents' => fopen(getenv('MATRIX_FILE'), 'r'), 'filename' => 'fcm.json', 'headers' => ['Content-Type' => 'application/json']],
]]));
