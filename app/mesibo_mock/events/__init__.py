"""Mesibo's events and the webhook that carries them: what raises them, the v2 envelope, the POST,
retries and the MESIBO OK reply."""
