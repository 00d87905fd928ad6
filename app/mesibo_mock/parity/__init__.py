"""Record a backend's calls against the real Mesibo (`mesibo-mock record`) and verify the emulator
against them (`mesibo-mock verify`): SPEC section 10."""
