"""A small chat backend: the usual FastAPI layout, with its own `app` package."""
