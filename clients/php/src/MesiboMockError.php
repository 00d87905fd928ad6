<?php

declare(strict_types=1);

namespace MesiboMock;

/**
 * What the package throws, named as in every client of mesibo-mock: an HTTP refusal of the emulator
 * (with its status and body), a wait that ran out, a server that would not start, or strict mode's
 * findings (the same text in every language).
 */
class MesiboMockError extends \RuntimeException
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

// The name of earlier versions: `catch (MesiboMockException $e)` goes on catching what is thrown.
if (!class_exists(MesiboMockException::class, false)) {
    class_alias(MesiboMockError::class, MesiboMockException::class);
}
