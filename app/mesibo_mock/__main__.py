"""`python -m mesibo_mock` and the `mesibo-mock` console script: the CLI, with the cyclic garbage collector
off from before the first import. A start makes about half a million objects that live as long as the
process, and collections among them cost a start about 30 ms (bench/fixed_cost.py); the CLI turns the
collector back on once its start-up is over (cli.start_collecting)."""

import gc


def main(argv: list[str] | None = None) -> int:
    gc.disable()
    from mesibo_mock.store.library import stop_memory_statistics

    stop_memory_statistics()  # before anything imports sqlite3 (store/library.py says why)
    from mesibo_mock.cli import main as run

    return run(argv)


if __name__ == "__main__":
    raise SystemExit(main())
