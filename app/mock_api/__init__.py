"""The emulator's own API under /_mock: inspect and steer state. Never goes through the op parser."""
