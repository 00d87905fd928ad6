"""The Mesibo backend endpoint: request parsing, the op registry and the HTTP route."""
