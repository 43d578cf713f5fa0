"""Every form takes malformed input without a server error: hypothesis posts odd values to each POST route.

Forms are found, not listed: each POST endpoint of app.url_map (through its row in tests/security_routes.py,
which says who may use it) is matched with the form that a page posts to it, read from the rendered HTML; every
FlaskForm class in portal/ must be rendered by some page, so a new form is fuzzed as soon as it has a route.
A valid CSRF token is sent so that the values reach the form's own validation and the view behind it.
"""
from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
from urllib.parse import urlsplit

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms.fields.core import UnboundField

import portal

from .html_forms import Form, post_forms
from .security_routes import ROUTES, acting_role, build_world
from .test_security_matrix import signed_in_client

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
# Every POST route with a form. Twilio's webhooks have none (they take Twilio's signed fields, and refuse anything
# unsigned before reading it: tests/test_webhooks.py sends them malformed signed requests).
# JSON rows (passkeys) take no form: test_security_passkeys.py sends them malformed JSON instead.
POST_ROUTES = [route for route in ROUTES if route.POST is not None and not route.endpoint.startswith("webhooks.")
               and not route.json]

NASTY = ["", " ", "\t\n", "0", "-1", "1e309", "NaN", "9" * 40, "2026-02-30", "+1", "+" + "9" * 30,
         "<script>alert(1)</script>", "'; DROP TABLE users; --", "%s%s%n", "../../etc/passwd", "\u202e\u0000",
         "null", "[]", "{}", "a" * 5000, "ñ" * 200, "😀" * 50, "\r\n\r\nSet-Cookie: x=1", "http://evil.example/"]
EDGE_VALUES = ["", "\u0000", "a" * 5000, "-1", "NaN", ["two", "values"]]
# Text with any character a browser can send (no lone surrogates: they cannot be encoded at all).
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300)
VALUE = st.one_of(st.sampled_from(NASTY), TEXT, st.integers().map(str))


def portal_form_classes() -> list[type]:
    """Every FlaskForm subclass defined under portal/ (all modules imported first)."""
    for info in pkgutil.walk_packages(portal.__path__, "portal."):
        importlib.import_module(info.name)
    found, todo = [], list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("portal."):
            found.append(cls)
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _pages(world, role: str) -> list[tuple[str, str, object]]:
    """Where this role finds forms: the pages it may open (GET rows answering 200), then the pages it gets back
    from a valid post (POST rows answering 200, e.g. the tip's status page after the code and passphrase)."""
    pages = [("GET", route.url(world), None) for route in ROUTES
             if route.GET is not None and route.GET.get(role) == 200 and route.endpoint != "static"]
    return pages + [("POST", route.url(world), route) for route in POST_ROUTES
                    if route.POST.get(role) == 200 and route.data is not None]


def _forms_on(app, client, world, role, token, method, url, route) -> list[Form]:
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": token, **route.data(world, world.user_for(role))})
    if response.status_code != 200 or response.mimetype != "text/html":  # a picture or a file holds no form
        return []
    return post_forms(response.get_data(as_text=True), urlsplit(url).path)


def _forms_for(app, client, world, role, token, *, endpoint: str | None = None) -> dict[str, Form]:
    """{endpoint: form} for every POST form on the pages the role can open (only the one endpoint's, if given:
    the search stops at the first page that has it)."""
    adapter = app.url_map.bind("localhost")
    found: dict[str, Form] = {}
    for method, url, route in _pages(world, role):
        for form in _forms_on(app, client, world, role, token, method, url, route):
            action, _args = adapter.match(form.action, method="POST")
            if action not in found or len(form.fields) > len(found[action].fields):
                found[action] = form
        if endpoint is not None and endpoint in found:
            return {endpoint: found[endpoint]}
    return found


def test_every_form_class_is_rendered_by_some_page(app, db):
    """A form that no page renders would not be fuzzed; this names it."""
    world = build_world()
    rendered: set[str] = set()  # every name a page sends: "email", "update-body" (prefix), "people-0-name" (list)
    for role in ("admin", "liaison", "family_a", "tipster", "staff_password_only", "staff_enrolling"):
        client, token = signed_in_client(app, world, role)
        for form in _forms_for(app, client, world, role, token).values():
            rendered.update(form.fields)

    def on_a_page(field: str) -> bool:
        return any(name == field or name.endswith(f"-{field}") or name.startswith(f"{field}-")
                   or f"-{field}-" in name for name in rendered)

    missing = []
    for cls in portal_form_classes():
        names = {name for name, value in inspect.getmembers(cls) if isinstance(value, UnboundField)}
        absent = sorted(name for name in names - {"csrf_token"} if not on_a_page(name))
        if absent:
            missing.append(f"{cls.__module__}.{cls.__qualname__}: fields {absent} on no page")
    assert portal_form_classes(), "no FlaskForm found: discovery is broken"
    assert not missing, "add a GET row (or a page) that renders these forms:\n" + "\n".join(missing)


@pytest.mark.parametrize("route", POST_ROUTES, ids=[r.endpoint for r in POST_ROUTES])
def test_malformed_values_never_cause_a_server_error(app, db, route):
    role = acting_role(route, "POST")
    assert role, f"{route.endpoint}: no role may post to it"
    world = build_world()
    client, token = signed_in_client(app, world, role)
    snapshot = client.get_cookie("session")
    url = route.url(world)
    form = _forms_for(app, client, world, role, token, endpoint=route.endpoint).get(route.endpoint)
    assert form is not None, f"no page that {role} can open renders a form posting to {route.endpoint}: add a GET row"
    # Start from what works (the page's own values and the row's valid data), then break some of it:
    # each field keeps its valid value, gets an odd one, several values, or goes missing.
    valid = {**form.values(), **(route.data(world, world.user_for(role)) if route.data else {})}
    tokens = {name: value for name, value in valid.items() if name.endswith("csrf_token")}  # kept: see above
    names = sorted(name for name in valid if name not in tokens)
    odd = st.one_of(st.none(), VALUE, st.lists(VALUE, min_size=2, max_size=3))  # None: the field is left out
    seen = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=st.data())
    def post_malformed(data):
        # Usually one or two fields are broken and the rest stay valid, so the odd value gets deep into the view.
        broken = set()
        for _ in range(len(names)):  # one field, sometimes (1 in 4) another too
            broken.add(data.draw(st.sampled_from(names), label="field to break"))
            if data.draw(st.integers(0, 3), label="break another") != 3:
                break
        sent = {name: valid[name] for name in names if name not in broken}
        for name in sorted(broken):
            value = data.draw(odd, label=name)
            if value is not None:
                sent[name] = value
        sent.update(data.draw(st.dictionaries(st.text(min_size=1, max_size=20), VALUE, max_size=2), label="extra"))
        sent.update(tokens)
        sent["csrf_token"] = token
        client.set_cookie("session", snapshot.value)  # each example starts from the signed-in session
        response = client.post(url, data=sent)
        seen.append(response.status_code)
        assert response.status_code < 500, f"{route.endpoint} answered {response.status_code} to {sent!r}"
        assert "Traceback" not in response.get_data(as_text=True)

    post_malformed()
    # And, deterministically, each field alone with each classic troublemaker (the others valid).
    for name in names:
        for value in EDGE_VALUES:
            client.set_cookie("session", snapshot.value)
            sent = {**{n: valid[n] for n in names}, name: value, **tokens, "csrf_token": token}
            response = client.post(url, data=sent)
            seen.append(response.status_code)
            assert response.status_code < 500, f"{route.endpoint} answered {response.status_code} to {name}={value!r}"
    assert len(seen) >= EXAMPLES + len(names) * len(EDGE_VALUES)
    print(f"{route.endpoint}: {len(seen)} examples, answers {sorted(set(seen))}")


@pytest.mark.parametrize("where", ["form", "query", "form list"])
def test_a_nul_character_anywhere_is_refused_before_any_view(client, where):
    """PostgreSQL cannot store NUL; found by the fuzz test above, refused for every route (others' too).

    A redirect target (next) is the one exception: never stored, it gets the safe default instead
    (tests/test_security_redirects.py)."""
    from .conftest import csrf_from

    token = csrf_from(client.get("/login").get_data(as_text=True))
    if where == "query":
        response = client.get("/login?lang=es\x00&next=/my")
    elif where == "form":
        response = client.post("/login", data={"csrf_token": token, "email": "a\x00@test.example", "password": "x"})
    else:
        response = client.post("/login", data={"csrf_token": token, "email": ["ok@test.example", "b\x00"]})
    assert response.status_code == 400
