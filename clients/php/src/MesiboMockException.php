<?php

declare(strict_types=1);

namespace MesiboMock;

// The name of earlier versions, an alias of MesiboMockError (which defines it when it loads).
class_exists(MesiboMockError::class);
