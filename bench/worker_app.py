"""The app the bench's consumers run: the portal with one more SMS backend, bench_counter (bench/sms_counter.py).

    flask --app bench.worker_app:create worker
"""
from __future__ import annotations


def create():
    """Register the counting backend, then build the portal exactly as production does."""
    from portal.sms.client import register_backend

    from .sms_counter import CountingSmsClient

    register_backend("bench_counter", CountingSmsClient)
    from portal import create_app

    return create_app()
