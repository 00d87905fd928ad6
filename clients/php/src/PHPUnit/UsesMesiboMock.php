<?php

declare(strict_types=1);

namespace MesiboMock\PHPUnit;

use MesiboMock\App;
use MesiboMock\MesiboMock;
use MesiboMock\StrictModeException;

/**
 * In each test, `$this->mesibo` is an app of its own on a server shared by the whole PHPUnit run, named
 * after the test (`Class::method`): its `token()`, `backendUrl()` and every helper. A backend call with
 * an op that does not exist or a field no op reads, or a webhook delivery the handler did not answer
 * with MESIBO OK, fails the test (strict mode) unless the test read it with `mistakes()`; a failed test
 * prints the server's report of its backend calls.
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
        $this->mesibo = MesiboMock::shared()->createApp(['name' => $this->mesiboTestName()] + $this->mesiboAppOptions());
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
        if ($this->mesiboTestFailed()) {
            $report = $app->report();
            fwrite(STDERR, "\nmesibo-mock: backend calls during {$app->name()}\n" . $report);
            $app->notStrict(); // failed already: its mistakes are in the report
        }
        try {
            $app->close();
        } catch (StrictModeException $mistakes) {
            $this->fail($mistakes->getMessage());
        }
    }

    /** `Class::method`, as PHPUnit names the test (9: getName, 10 and later: name). */
    private function mesiboTestName(): string
    {
        $method = method_exists($this, 'name') ? $this->name() : $this->getName(false);
        return static::class . '::' . $method;
    }

    private function mesiboTestFailed(): bool
    {
        if (method_exists($this, 'hasFailed')) { // PHPUnit 9
            return $this->hasFailed();
        }
        $status = $this->status(); // PHPUnit 10 and later
        return $status->isFailure() || $status->isError();
    }
}
