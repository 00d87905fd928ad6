<?php

declare(strict_types=1);

use MesiboMock\MesiboMock;
use MesiboMock\PHPUnit\UsesMesiboMock;
use PHPUnit\Framework\TestCase;

/** The trait: an app per test on one shared server, and strict mode failing a test for a typo. */
final class UsesMesiboMockTest extends TestCase
{
    use UsesMesiboMock;

    /** @var string[] */
    private static $tokens = [];

    public function testEachTestHasAnAppOfItsOwnWithSampleCredentials(): void
    {
        self::$tokens[] = $this->mesibo->token();
        $this->assertSame(MesiboMock::shared()->url() . '/backend', $this->mesibo->backendUrl());
        $view = $this->mesibo->app();
        $this->assertSame('mesibo-mock-demo', $view['credentials']['fcm']['project_id']);
        $this->assertSame('com.example.app', $view['credentials']['apn'][0]['bundle']);
    }

    public function testAndTheNextTestAnother(): void
    {
        self::$tokens[] = $this->mesibo->token();
        $this->assertCount(2, array_unique(self::$tokens));
        $this->assertSame([], $this->mesibo->users()); // nothing of the previous test's app
        $tokens = array_column(MesiboMock::shared()->apps(), 'token');
        $this->assertNotContains(self::$tokens[0], $tokens); // deleted at its test's end
    }

    public function testStrictModeFailsATestForATypoNamingIt(): void
    {
        $phpunit = getenv('PHPUNIT_BIN') ?: 'phpunit';
        $command = [$phpunit, '--bootstrap', dirname(__DIR__) . '/autoload.php', __DIR__ . '/fixtures/TypoCase.php'];
        $process = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, getenv());
        $output = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        $status = proc_close($process);
        $this->assertSame(1, $status, $output);
        $this->assertMatchesRegularExpression('/Tests: 2, Assertions: \d+, Failures: 1\./', $output);
        $this->assertStringContainsString('TypoCase::testATypo', $output);
        $this->assertStringContainsString('mesibo-mock strict mode: 1 backend call mistake(s) that Mesibo would ignore silently:', $output);
        $this->assertMatchesRegularExpression("/'push\\.sounds' is not a field of pushset.*did you mean 'push\\.sound'\\?/", $output);
        $this->assertStringNotContainsString('testNoTypo', $output);
    }
}
