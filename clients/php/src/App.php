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

    /**
     * Delete the app (and close its webhook receivers). With strict mode, then throw StrictModeException
     * naming each op that does not exist or field no op reads, in the pytest plugin's words.
     */
    public function close(): void
    {
        if ($this->closed) {
            return;
        }
        $this->closed = true;
        $report = $this->strict ? $this->mistakesReport() : null;
        $this->closeReceivers();
        $this->http->request('DELETE', "/_mock/apps/{$this->appToken}");
        if ($report !== null) {
            throw new StrictModeException($report);
        }
    }
}
