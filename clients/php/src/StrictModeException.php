<?php

declare(strict_types=1);

namespace MesiboMock;

/** A strict app's backend calls had mistakes the test did not read (the message names each). */
final class StrictModeException extends MesiboMockError
{
}
