"""Domain services over the store: apps, users and devices, credentials. No HTTP here."""
