"""`python -m app` runs the same CLI as the `mesibo-mock` console script."""

from app.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
