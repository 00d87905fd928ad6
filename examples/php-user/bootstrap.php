<?php
// mesibo-mock's PHP package, vendored without Composer (its autoload.php), and the backend's own code.
require __DIR__ . '/vendor/mesibo-mock/autoload.php';
require __DIR__ . '/src/ChatBackend.php';
