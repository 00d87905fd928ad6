<?php
// The router of WebhookReceiver's `php -S` child: record each POST (one base64 line per POST, appended
// under a lock) and answer MESIBO OK, as Mesibo wants. A POST past 1 MiB is answered 413, unrecorded.
const MAX_BODY = 1048576;
if ((int) ($_SERVER['CONTENT_LENGTH'] ?? 0) > MAX_BODY) {
    http_response_code(413);
    header('Content-Type: text/plain');
    echo 'a webhook POST is at most 1 MiB';
    return;
}
$log = getenv('MESIBO_MOCK_RECEIVER_LOG');
$body = (string) file_get_contents('php://input', false, null, 0, MAX_BODY + 1);
if (strlen($body) > MAX_BODY) {
    http_response_code(413);
    return;
}
file_put_contents($log, base64_encode($body) . "\n", FILE_APPEND | LOCK_EX);
header('Content-Type: text/plain');
echo 'MESIBO OK';
