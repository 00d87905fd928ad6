"""Fake delivery: render what Mesibo would send to FCM and APNs and answer as they would."""
