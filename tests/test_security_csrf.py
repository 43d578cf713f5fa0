"""CSRF: every state-changing route refuses a valid-looking form that lacks the token (signed webhooks excepted).

The check posts, for each route, the body that works with a token (tests/security_routes.py), as a person who
may use the route, and expects Flask-WTF's refusal: 400, the CSRF log line, and nothing changed. Turning CSRF off
(WTF_CSRF_ENABLED = False, or csrf.exempt on a view) makes it fail: test_the_check_fails_when_csrf_is_off.

Two kinds of route go without Flask-WTF's token, each for a reason written on its row, and each has its own
protection checked here instead: Twilio's webhooks (a request without Twilio's signature answers 403) and the
anonymous tip pages (they set no cookie, so there is no session to bind a token to: a post from another site
answers 403, and a tip form without its signed token is not saved).
"""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from portal.extensions import csrf, db

from .security_routes import NO_COOKIE, ROUTES, SIGNED_BY_TWILIO, acting_role, build_world
from .test_security_matrix import signed_in_client

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
CROSS_SITE = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}


def _state_changing_routes(app):
    methods = {}
    for rule in app.url_map.iter_rules():
        for method in set(rule.methods) & set(STATE_CHANGING):
            methods.setdefault(rule.endpoint, set()).add(method)
    return methods


def _row_counts() -> tuple[int, ...]:
    """How many rows each table holds: a refused request must leave every count as it was (audit included)."""
    return tuple(db.session.scalar(select(func.count()).select_from(table)) for table in db.metadata.sorted_tables)


def _exempt_in_app(app, endpoint: str) -> bool:
    view = app.view_functions[endpoint]
    blueprint = app.blueprints.get(endpoint.rpartition(".")[0])
    return (blueprint in csrf._exempt_blueprints
            or f"{view.__module__}.{view.__name__}" in csrf._exempt_views)


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
            allowed = {SIGNED_BY_TWILIO: "webhooks.", NO_COOKIE: "tips."}.get(route.csrf_exempt)
            assert allowed and endpoint.startswith(allowed), f"{endpoint}: may not skip CSRF ({route.csrf_exempt})"
            assert _exempt_in_app(app, endpoint), f"{endpoint}: its row says exempt, but the app checks the token"
            continue  # their own protection: test_signed_webhooks_... and test_cookieless_tip_pages_...
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
            before = _row_counts()
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="flask_wtf.csrf"):
                body = {"json": data} if route.json else {"data": data}  # JSON rows: no X-CSRFToken header
                response = client.open(route.url(world), method=method, **body)
            checked += 1
            said_csrf = any("CSRF" in r.getMessage() for r in caplog.records if r.name == "flask_wtf.csrf")
            if response.status_code != 400 or not said_csrf:
                problems.append(f"{method} {endpoint} as {role}: answered {response.status_code} without a token")
            elif _row_counts() != before:
                problems.append(f"{method} {endpoint} as {role}: refused, but something was written")
    return problems, checked


def test_every_state_changing_route_refuses_a_post_without_csrf_token(app, caplog):
    problems, checked = csrf_problems(app, caplog)
    assert checked >= 50  # 57 when written
    assert not problems, "\n".join(problems)


def test_the_check_fails_when_csrf_is_off(app, caplog, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    problems, checked = csrf_problems(app, caplog)
    assert len(problems) == checked, f"with CSRF off, only {len(problems)} of {checked} routes were flagged"


def _exempt_rows(reason: str):
    return [route for route in ROUTES if route.csrf_exempt == reason]


def cookieless_problems(app) -> tuple[list[str], int]:
    """Post each tip form, as a tipster, from another site; and the tip form without its signed token."""
    world = build_world()
    client, _token = signed_in_client(app, world, "tipster")
    problems, checked = [], 0
    for route in _exempt_rows(NO_COOKIE):
        before = _row_counts()
        response = client.post(route.url(world), data=route.data(world, None), headers=CROSS_SITE)
        checked += 1
        if response.status_code != 403 or _row_counts() != before:
            problems.append(f"{route.endpoint}: a post from another site answered {response.status_code}"
                            f"{'' if _row_counts() == before else ' and wrote something'}")
        unsigned = {k: v for k, v in route.data(world, None).items() if k not in ("form_token", "access")}
        if unsigned != route.data(world, None) or "form_token" in route.data(world, None):
            before = _row_counts()
            response = client.post(route.url(world), data=unsigned)
            checked += 1
            if response.status_code != 422 or _row_counts() != before:
                problems.append(f"{route.endpoint}: without its signed token answered {response.status_code}")
    return problems, checked


def test_cookieless_tip_pages_refuse_posts_from_other_sites_and_forms_without_their_signed_token(app):
    problems, checked = cookieless_problems(app)
    assert checked >= 5 and len(_exempt_rows(NO_COOKIE)) == 3
    assert not problems, "\n".join(problems)


def test_the_tip_check_fails_when_the_origin_check_is_off(app, monkeypatch):
    monkeypatch.setattr("portal.tips.routes._check_form_origin", lambda: None)
    problems, _checked = cookieless_problems(app)
    assert len([p for p in problems if "another site" in p]) == len(_exempt_rows(NO_COOKIE))


@pytest.mark.parametrize("defeated", [False, True])
def test_signed_webhooks_refuse_every_post_without_twilios_signature(app, monkeypatch, defeated):
    """The webhooks' stand-in for CSRF; with the signature check defeated, the same posts get through."""
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "a-real-looking-auth-token")
    if defeated:
        monkeypatch.setattr("portal.webhooks.routes._signed", lambda: True)
    world = build_world()
    client = app.test_client()
    rows = _exempt_rows(SIGNED_BY_TWILIO)
    assert {r.endpoint for r in rows} == {e for e in app.view_functions if e.startswith("webhooks.")}
    refused = []
    for route in rows:
        before = _row_counts()
        response = client.post(route.url(world), data=route.data(world, None),
                                headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"})
        refused.append(response.status_code == 403 and _row_counts() == before)
    assert refused == [not defeated] * len(rows)


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
