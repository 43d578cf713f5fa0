"""CSRF: every state-changing route refuses a valid-looking form that lacks the token (signed webhooks excepted).

The check posts, for each route, the body that works with a token (tests/security_routes.py), as a person who
may use the route, and expects Flask-WTF's refusal: 400, the CSRF log line, and nothing changed. Turning CSRF off
(WTF_CSRF_ENABLED = False, or csrf.exempt on a view) makes it fail: test_the_check_fails_when_csrf_is_off.
"""
from __future__ import annotations

import logging

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent

from .security_routes import ROUTES, acting_role, build_world
from .test_security_matrix import signed_in_client

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def _state_changing_routes(app):
    methods = {}
    for rule in app.url_map.iter_rules():
        for method in set(rule.methods) & set(STATE_CHANGING):
            methods.setdefault(rule.endpoint, set()).add(method)
    return methods


def csrf_problems(app, caplog) -> tuple[list[str], int]:
    """Post to every state-changing route without a token; list what was not refused."""
    world = build_world()
    clients: dict[str, object] = {}
    problems, checked = [], 0
    by_endpoint = {route.endpoint: route for route in ROUTES}
    for endpoint, methods in sorted(_state_changing_routes(app).items()):
        route = by_endpoint.get(endpoint)
        if route is None:
            problems.append(f"{endpoint}: no row in tests/security_routes.py")
            continue
        if route.csrf_exempt:
            assert endpoint.startswith("webhooks."), f"{endpoint}: only signed webhooks may skip CSRF"
            continue
        for method in sorted(methods):
            role = acting_role(route, method)
            if role is None:
                problems.append(f"{endpoint} {method}: no role may use it, so the check cannot act")
                continue
            if role not in clients:
                clients[role] = signed_in_client(app, world, role)[0]
            client = clients[role]
            user = world.user_for(role)
            data = route.data(world, user) if route.data else {}
            audits_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="flask_wtf.csrf"):
                response = client.open(route.url(world), method=method, data=data)
            checked += 1
            said_csrf = any("CSRF" in r.getMessage() for r in caplog.records if r.name == "flask_wtf.csrf")
            audits_after = db.session.scalar(select(func.count()).select_from(AuditEvent))
            if response.status_code != 400 or not said_csrf:
                problems.append(f"{method} {endpoint} as {role}: answered {response.status_code} without a token")
            elif audits_after != audits_before:
                problems.append(f"{method} {endpoint} as {role}: refused, but something was written")
    return problems, checked


def test_every_state_changing_route_refuses_a_post_without_csrf_token(app, caplog):
    problems, checked = csrf_problems(app, caplog)
    assert checked >= 10
    assert not problems, "\n".join(problems)


def test_the_check_fails_when_csrf_is_off(app, caplog, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    problems, checked = csrf_problems(app, caplog)
    assert len(problems) == checked, f"with CSRF off, only {len(problems)} of {checked} routes were flagged"


def test_a_wrong_token_is_refused_too(app, client):
    world = build_world()
    client, _token = signed_in_client(app, world, "liaison")
    response = client.post(f"/staff/cases/{world.case_a.id}/updates",
                           data={"csrf_token": "not-a-real-token", "update-body": "x", "update-visibility": "internal"})
    assert response.status_code == 400


def test_a_token_from_another_session_is_refused(app):
    world = build_world()
    _attacker, attacker_token = signed_in_client(app, world, "other_liaison")
    victim, _token = signed_in_client(app, world, "liaison")
    response = victim.post(f"/staff/cases/{world.case_a.id}/updates",
                           data={"csrf_token": attacker_token, "update-body": "x", "update-visibility": "internal"})
    assert response.status_code == 400
