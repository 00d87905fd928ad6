<?php

declare(strict_types=1);

namespace MesiboMock;

/**
 * An app of a test's own: its token, its backend URL, and every helper scoped to it, so that tests leave
 * each other's data alone.
 */
final class App extends Helpers
{
    /** @var array<string, mixed> */
    private $view;
    /** @var bool */
    private $strict;
    /** @var bool */
    private $closed = false;

    /** @internal made by MesiboMock::createApp() */
    public function __construct(Http $http, array $view, bool $strict)
    {
        parent::__construct($http, $view['token']);
        $this->view = $view;
        $this->strict = $strict;
    }

    public function name(): string
    {
        return $this->view['name'];
    }

    /** The app as the server showed it when it was made (credentials, options). */
    public function view(): array
    {
        return $this->view;
    }

    public function isStrict(): bool
    {
        return $this->strict;
    }

    /** Strict mode off: the test failed already, and its mistakes are in its report. */
    public function notStrict(): void
    {
        $this->strict = false;
    }

    /**
     * Delete the app (and close its webhook receivers). With strict mode, then throw StrictModeException
     * naming each mistake the test did not read with mistakes(), in the words every client uses.
     */
    public function close(): void
    {
        if ($this->closed) {
            return;
        }
        $this->closed = true;
        $report = $this->strict ? $this->unexpectedMistakes() : null;
        $this->closeReceivers();
        try {
            $this->http->request('DELETE', $this->appPath());
        } catch (MesiboMockError $error) {
            if ($error->status !== 404) { // gone already (a server-wide reset)
                throw $error;
            }
        }
        if ($report !== null) {
            throw new StrictModeException($report);
        }
    }
}
