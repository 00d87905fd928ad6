<?php
// The router of WebhookReceiver's `php -S` child: record each POST (one base64 line per POST, appended
// under a lock) and answer MESIBO OK, as Mesibo wants.
$log = getenv('MESIBO_MOCK_RECEIVER_LOG');
$body = (string) file_get_contents('php://input');
file_put_contents($log, base64_encode($body) . "\n", FILE_APPEND | LOCK_EX);
header('Content-Type: text/plain');
echo 'MESIBO OK';
