"""The dashboard at /_mock/ui: Jinja2 templates and plain JS, every asset served locally."""
