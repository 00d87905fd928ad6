"""mesibo-mock: a local emulator of Mesibo's backend push-notification API."""

__version__ = "0.1.0"
