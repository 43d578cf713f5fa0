"""Nothing below the routes reads the request: the actor and the client address are passed in (docs/ARCHITECTURE.md),
and services change the session and flush, never commit (the request, job or command commits at its boundary)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parent.parent / "portal"
# Below the routes: what must work the same in a request, a job and a command.
BELOW_THE_ROUTES = ["services", "models", "access.py", "audit.py", "display.py", "uploads.py", "contact_rules.py",
                    "providers"]
REQUEST_STATE = {"flask": {"request", "g", "session"}, "flask_login": {"current_user"}}


def _modules(*names: str) -> list[Path]:
    found = []
    for name in names:
        path = PORTAL / name
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def _dotted(node: ast.AST) -> str | None:
    """'flask.request' for the expression flask.request (None for anything but a chain of names)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def request_state_uses(source: str, filename: str) -> list[str]:
    """Each import of request, g, session (flask) or current_user (flask_login), or use as flask.request etc."""
    tree = ast.parse(source, filename)
    aliases: dict[str, str] = {}  # local name -> module, for `import flask` / `import flask_login as fl`
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in REQUEST_STATE and node.level == 0:
            for alias in node.names:
                if alias.name in REQUEST_STATE[node.module] or alias.name == "*":
                    found.append(f"{filename}:{node.lineno}: from {node.module} import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for module, names in REQUEST_STATE.items():
                if node.module.startswith(module + ".") and any(a.name in names for a in node.names):
                    found.append(f"{filename}:{node.lineno}: from {node.module} import "
                                 + ", ".join(a.name for a in node.names))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                if root in REQUEST_STATE:
                    aliases[alias.asname or root] = root
                if alias.name.rsplit(".", 1)[-1] in REQUEST_STATE.get(root, ()) and "." in alias.name:
                    found.append(f"{filename}:{node.lineno}: import {alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            module = aliases.get(head)
            if module and rest.split(".")[0] in REQUEST_STATE[module]:
                found.append(f"{filename}:{node.lineno}: {dotted}")
    return found


def commit_calls(source: str, filename: str) -> list[str]:
    """Each call of something's .commit() (db.session.commit(), session.commit(), connection.commit())."""
    return [f"{filename}:{node.lineno}: {ast.unparse(node.func)}()" for node in ast.walk(ast.parse(source, filename))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"]


def _scan(check, modules: list[Path]) -> list[str]:
    return [hit for path in modules for hit in check(path.read_text(encoding="utf-8"), str(path.relative_to(PORTAL)))]


def test_nothing_below_the_routes_reads_the_request_the_user_or_g():
    modules = _modules(*BELOW_THE_ROUTES)
    assert len(modules) > 30  # the walk did find the packages
    assert _scan(request_state_uses, modules) == []


def test_no_service_commits():
    modules = _modules("services")
    assert _scan(commit_calls, modules) == []


@pytest.mark.parametrize("source", [
    "from flask import request",
    "from flask import current_app, g",
    "from flask import session as flask_session",
    "from flask_login import current_user",
    "import flask\nflask.request.remote_addr",
    "import flask as f\nx = f.g.agency",
    "import flask_login\nflask_login.current_user.id",
    "from flask.globals import request",
])
def test_the_request_check_finds_each_way_in(source):
    assert request_state_uses(source, "example.py") != []


@pytest.mark.parametrize("source", [
    "from flask import current_app, render_template",
    "from flask_login import UserMixin",
    "import flask\nflask.current_app.config",
    "request = None\nrequest.x",
])
def test_the_request_check_lets_the_rest_through(source):
    assert request_state_uses(source, "example.py") == []


def test_the_commit_check_names_file_and_line():
    assert commit_calls("x = 1\ndb.session.commit()\n", "services/x.py") == ["services/x.py:2: db.session.commit()"]


RAW_WRITE = re.compile(r"""text\(\s*[rbf]?["']\s*(?:INSERT|UPDATE|DELETE)\b""", re.IGNORECASE)


def test_no_request_writes_through_raw_sql_text():
    """The request boundary commits when the unit of work or an insert()/update()/delete() wrote something
    (web/boundary.has_writes); a write spelled as text("UPDATE ...") would go unseen and be rolled back."""
    found = [f"{path.relative_to(PORTAL.parent)}:{number}" for path in PORTAL.rglob("*.py")
             for number, line in enumerate(path.read_text().splitlines(), start=1) if RAW_WRITE.search(line)]
    assert found == []
    assert RAW_WRITE.search('db.session.execute(text("UPDATE cases SET stage = :s"))')
