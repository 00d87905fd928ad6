"""Every /_mock route, one module per resource: apps (and their devices, users, webhook), records
(pushes, messages, events, deliveries), faults, the clock, the journal, samples. Included on the first
/_mock request (see main.py), so that start-up does not pay for them."""

from fastapi import APIRouter

from mesibo_mock.mock_api import apps, clock, faults, journal, records, samples

router = APIRouter()
for part in (apps, records, faults, clock, journal, samples):
    router.include_router(part.router)
