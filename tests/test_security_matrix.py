"""Route × role matrix: every endpoint answers every kind of visitor as tests/security_routes.py says.

A route without a row fails test_every_route_has_a_row, naming it. Another family's or another liaison's ids
answer 404, exactly like ids that do not exist, and a 404 or a redirect never carries case A's details.
"""
from __future__ import annotations

import pytest
from sqlalchemy import update
from werkzeug.routing import IntegerConverter

from portal.extensions import db
from portal.models import User

from .conftest import csrf_from, login, sign_in
from .security_routes import (
    ALL_ROLES,
    ENROLLING,
    PENDING,
    REDIRECTS_TO_SIGN_IN,
    ROUTES,
    ROUTES_BY_ENDPOINT,
    Go,
    build_world,
    tip_access_pass,
)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# People with no right to case A: nothing they get back, whatever the status, may show case A's names or leads...
OUTSIDERS = ("anonymous", "tipster", "family_b", "other_liaison", PENDING, ENROLLING)
# ...except through a link case A's family or liaison handed out: the tip pages and the invitation name the case.
LINK_HOLDERS_SEE_CASE_A = {"tips.leave_tip", "tips.check_tip", "tips.answer_tip_question", "auth.accept_invite"}
MISSING_ID = 987654


def _rule_methods(app) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        found.setdefault(rule.endpoint, set()).update(m for m in rule.methods if m in METHODS)
    return found


def test_every_route_has_a_row(app):
    problems = []
    for endpoint, methods in sorted(_rule_methods(app).items()):
        route = ROUTES_BY_ENDPOINT.get(endpoint)
        if route is None:
            problems.append(f"{endpoint}: no row in tests/security_routes.py ROUTES")
            continue
        missing = methods - set(route.expectations())
        if missing:
            problems.append(f"{endpoint}: no expectations for {sorted(missing)}")
    stale = set(ROUTES_BY_ENDPOINT) - set(_rule_methods(app))
    problems += [f"{endpoint}: row for a route that does not exist" for endpoint in sorted(stale)]
    for route in ROUTES:
        for method, table in route.expectations().items():
            gaps = [role for role in ALL_ROLES if table.get(role) is None]
            if gaps:
                problems.append(f"{route.endpoint} {method}: no expectation for {gaps}")
    assert not problems, "route × role table incomplete:\n" + "\n".join(problems)


def test_two_rows_never_share_an_endpoint():
    endpoints = [route.endpoint for route in ROUTES]
    assert len(endpoints) == len(set(endpoints))


def signed_in_client(app, world, role):
    """A client acting as the role, and a CSRF token of its session."""
    client = app.test_client()
    user = world.user_for(role)
    if role == ENROLLING:  # an earlier row may have finished the enrolment: this role has none yet
        db.session.execute(update(User).where(User.id == user.id).values(mfa_enrolled_at=None, totp_secret=None))
        db.session.commit()
    if role in (PENDING, ENROLLING):
        where = login(client, user.email).headers["Location"]
        assert where == ("/mfa" if role == PENDING else "/mfa/setup")
        page = client.get(where)
    elif user is not None:
        sign_in(client, user)
        page = client.get("/account")
    else:
        if role == "tipster":  # has opened the family's tip link: the tip pages set no cookie at all
            tip = client.get(f"/t/{world.tip_token}")
            assert tip.status_code == 200 and "Set-Cookie" not in tip.headers
        page = client.get("/login")  # like any visitor, a session that holds only a CSRF token
    assert page.status_code == 200, f"{role}: {page.status_code}"
    return client, csrf_from(page.get_data(as_text=True))


def _matches(expected, response) -> bool:
    if isinstance(expected, Go):
        return expected.matches(response)
    return response.status_code == expected


def _describe(response) -> str:
    where = response.headers.get("Location")
    return f"{response.status_code}" + (f" → {where}" if where else "")


def _int_args(app, endpoint: str) -> list[str]:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    return [name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]


def _missing_url(app, route, world) -> str | None:
    """The route's address with every integer id swapped for one that does not exist."""
    names = _int_args(app, route.endpoint)
    if not names:
        return None
    adapter = app.url_map.bind("localhost")
    _endpoint, values = adapter.match(route.url(world), method="GET" if route.GET else "POST")
    values.update({name: MISSING_ID for name in names})
    return adapter.build(route.endpoint, values)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_route_answers_the_role_as_the_table_says(app, role):
    world = build_world()
    user = world.user_for(role)
    secrets_of_case_a = (world.case_a.decedent_name, world.member_a.name, world.lead_a.details,
                         world.tip_lead.details, world.tip_question.question)
    outsider = role in OUTSIDERS
    failures, checked = [], 0
    client = token = snapshot = None

    def send(method, url, data=None, json=False):
        # Every check starts from the same signed-in session (cookie sessions: restoring the cookie restores it).
        client.set_cookie("session", snapshot.value) if snapshot else client.delete_cookie("session")
        if method == "GET":
            return client.get(url)
        if json:  # as static/js/passkeys.js posts: JSON, the token in a header
            return client.open(url, method=method, json=data or {}, headers={"X-CSRFToken": token})
        return client.open(url, method=method, data={"csrf_token": token, **(data or {})})

    def check(method, url, expected, response, what="", endpoint=""):
        nonlocal checked
        checked += 1
        if not _matches(expected, response):
            failures.append(f"{method} {url}{what}: expected {expected!r}, got {_describe(response)}")
        if response.status_code in (301, 302, 303, 404) or (outsider and endpoint not in LINK_HOLDERS_SEE_CASE_A):
            body = response.get_data().decode("utf-8", "replace")  # a picture staff may all see is not text
            leaked = [s for s in secrets_of_case_a if s in body]
            if leaked:
                failures.append(f"{method} {url}: a {response.status_code} shows {leaked}")

    # Rows whose POST signs the client out run last, each in a new session.
    for route in sorted(ROUTES, key=lambda r: r.ends_session):
        if client is None or route.ends_session:
            client, token = signed_in_client(app, world, role)
            snapshot = client.get_cookie("session")
        for method, table in route.expectations().items():
            url = route.url(world)
            data = route.data(world, user) if route.data and method != "GET" else None
            missing = _missing_url(app, route, world)
            if missing:  # before the real request, which may change things (a POST that signs out)
                want = table[role] if table[role] in REDIRECTS_TO_SIGN_IN else 404
                check(method, missing, want, send(method, missing, data, route.json), " (an id that does not exist)")
            check(method, url, table[role], send(method, url, data, route.json), f" ({route.endpoint})",
                  route.endpoint)
    assert checked >= len(ROUTES)
    print(f"{role}: {checked} checks ({len(ROUTES)} endpoints, every method, and ids that do not exist)")
    assert not failures, f"{role}: {len(failures)} of {checked} checks failed:\n" + "\n".join(failures)


def test_a_text_already_in_case_as_conversation_answers_404_to_the_other_liaison(app):
    """Linking takes a text's id: a text already on someone else's case is theirs (404, like a missing one)."""
    from portal.models import InboundSms

    from .factories import make_inbound_sms

    world = build_world()
    on_case_a = make_inbound_sms(member=world.member_a, body="Is there news?")
    url = f"/staff/texts/unmatched/{on_case_a.id}/link"
    data = {f"text{on_case_a.id}-member_id": str(world.member_b.id)}
    other, token = signed_in_client(app, world, "other_liaison")
    refused = other.post(url, data={"csrf_token": token, **data})
    assert refused.status_code == 404 and "Is there news?" not in refused.get_data(as_text=True)
    liaison, token = signed_in_client(app, world, "liaison")
    told = liaison.post(url, data={"csrf_token": token, f"text{on_case_a.id}-member_id": str(world.member_a.id)},
                        follow_redirects=True)
    assert told.status_code == 200 and "already linked" in told.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(InboundSms, on_case_a.id).case_id == world.case_a.id


TOO_BIG = (2**31, 2**63, 10**25)  # past PostgreSQL's integer, past SQLite's, past both


@pytest.mark.parametrize("role", ["liaison", "supervisor", "family_a", "tipster"])
def test_numbers_too_big_for_the_database_answer_404_or_are_ignored_never_500(app, role):
    world = build_world()
    client, token = signed_in_client(app, world, role)
    adapter = app.url_map.bind("localhost")
    checked = 0
    for route in ROUTES:
        names = _int_args(app, route.endpoint)
        for method in route.expectations() if names else ():
            _endpoint, values = adapter.match(route.url(world).split("?")[0], method=method)
            for number in TOO_BIG:
                url = adapter.build(route.endpoint, {**values, **{name: number for name in names}})
                response = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": token})
                checked += 1
                want = route.expectations()[method][role]
                assert response.status_code == 404 or (want in REDIRECTS_TO_SIGN_IN and _matches(want, response)), \
                    f"{method} {url}: {response.status_code}"
    pages = {"liaison": ["/staff/?liaison={n}", "/staff/cases?page={n}", "/staff/leads?case={n}&page={n}",
                         "/staff/availability?liaison={n}"],
             "supervisor": ["/staff/?liaison={n}", "/staff/audit?page={n}&actor={n}", "/staff/appointments?page={n}"],
             "family_a": [], "tipster": []}[role]
    for page in pages:
        for number in (*TOO_BIG, "²", "-1", "0"):
            response = client.get(page.format(n=number))
            checked += 1
            assert response.status_code in (200, 404), f"{page.format(n=number)}: {response.status_code}"
    answer = client.post("/tip/answer", data={"question_id": str(2**63), "access": tip_access_pass(world.tip_lead),
                                              "answer": "Blue."})
    assert answer.status_code == 404
    assert checked > 100
