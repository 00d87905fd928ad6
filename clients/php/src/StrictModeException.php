<?php

declare(strict_types=1);

namespace MesiboMock;

/** A strict app's backend calls had an op that does not exist or a field no op reads (the message says which). */
final class StrictModeException extends MesiboMockException
{
}
