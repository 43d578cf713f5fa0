"""Helpers for family-side tests: read hidden fields, open the lead form, post it."""
from __future__ import annotations

import re

from .conftest import csrf_from


def hidden(html: str, name: str) -> str:
    """The value of a hidden input in a page."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', html) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{re.escape(name)}"', html)
    assert match, f"no hidden field {name!r} on the page"
    return match.group(1)


def open_lead_form(client, case_id: int) -> dict:
    """GET the lead form; returns the fields a browser would send back (CSRF token, submission key)."""
    page = client.get(f"/my/cases/{case_id}/leads/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return {"csrf_token": csrf_from(html), "submission_key": hidden(html, "submission_key")}


def post_lead(client, case_id: int, form: dict, files=None, **fields):
    """POST the lead form with the given fields and files (a list of (stream, name, type) tuples)."""
    data = dict(form)
    data.update(fields)
    if files:
        data["files"] = files
    return client.post(f"/my/cases/{case_id}/leads/new", data=data, content_type="multipart/form-data")
