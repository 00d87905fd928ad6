<?php
// The package's autoloader without Composer (Packagist may be out of reach, or the folder vendored):
//     require '/path/to/clients/php/autoload.php';
// PSR-4: the class MesiboMock\X\Y is the file src/X/Y.php, as composer.json declares.
spl_autoload_register(static function (string $class): void {
    $prefix = 'MesiboMock\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
