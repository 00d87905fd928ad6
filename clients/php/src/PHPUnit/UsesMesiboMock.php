<?php

declare(strict_types=1);

namespace MesiboMock\PHPUnit;

use MesiboMock\App;
use MesiboMock\MesiboMock;
use MesiboMock\StrictModeException;

/**
 * In each test, `$this->mesibo` is an app of its own on a server shared by the whole PHPUnit run: its
 * `token()`, `backendUrl()` and every helper. A backend call with an op that does not exist or a field
 * no op reads fails the test (strict mode), in the pytest plugin's words.
 *
 *     final class SignupTest extends TestCase
 *     {
 *         use UsesMesiboMock;
 *         ...
 *
 * Override `mesiboAppOptions()` to change what each test's app gets (credentials, strict).
 */
trait UsesMesiboMock
{
    /** @var App|null */
    protected $mesibo;

    /** What each test's app is made with: the sample FCM and APN credentials, and strict mode. */
    protected function mesiboAppOptions(): array
    {
        return ['credentials' => 'sample', 'strict' => true];
    }

    /**
     * @before
     */
    #[\PHPUnit\Framework\Attributes\Before]
    public function setUpMesiboMock(): void
    {
        $this->mesibo = MesiboMock::shared()->createApp($this->mesiboAppOptions());
    }

    /**
     * @after
     */
    #[\PHPUnit\Framework\Attributes\After]
    public function tearDownMesiboMock(): void
    {
        $app = $this->mesibo;
        $this->mesibo = null;
        if ($app === null) {
            return;
        }
        try {
            $app->close();
        } catch (StrictModeException $mistakes) {
            $this->fail($mistakes->getMessage());
        }
    }
}
