"""`python -m mesibo_mock` runs the same CLI as the `mesibo-mock` console script."""

from mesibo_mock.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
