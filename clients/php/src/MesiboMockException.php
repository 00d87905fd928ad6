<?php

declare(strict_types=1);

namespace MesiboMock;

/**
 * What the package throws: an HTTP error of the emulator (with its status and body), a wait that ran
 * out, a server that would not start, or strict mode's mistakes (the pytest plugin's text).
 */
class MesiboMockException extends \RuntimeException
{
    /** @var int|null */
    public $status;
    /** @var string|null */
    public $body;

    public function __construct(string $message, ?int $status = null, ?string $body = null)
    {
        parent::__construct($message);
        $this->status = $status;
        $this->body = $body;
    }
}
