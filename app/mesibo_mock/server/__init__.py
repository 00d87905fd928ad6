"""The plumbing under the app: listening and stopping, deadlines and caps, the runtime, settings, docs
pages and JSON answers."""
