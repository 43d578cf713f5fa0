"""The architecture is enforced, not hoped for: the import-linter contracts hold, they catch a provider that
imports a service, and no module in portal/ takes part in an import cycle (docs/ARCHITECTURE.md)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(tree / ".importlinter")], cwd=tree,  # noqa: S603
                          env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def copy_of_the_tree(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("tree")
    shutil.copytree(ROOT / "portal", tree / "portal", ignore=shutil.ignore_patterns("static", "translations",
                                                                                   "__pycache__"))
    shutil.copy(ROOT / ".importlinter", tree / ".importlinter")
    shutil.copy(ROOT / "config.py", tree / "config.py")
    return tree


def test_the_contracts_hold_on_the_code_as_it_is():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


@pytest.mark.parametrize("offender, line, contract", [
    ("providers/sms/base.py", "from portal.services import cases  # noqa", "Providers are leaves"),
    ("providers/sms/local.py", "from ...services.notifications import policy  # noqa", "Providers are leaves"),
    ("providers/sms/segments.py", "import flask  # noqa", "Providers are leaves"),
    ("models/types.py", "from portal.services import contact  # noqa", "Layers, one way"),
    ("services/agency.py", "from portal.staff import routes  # noqa", "Layers, one way"),
    ("contact_rules.py", "from portal import models  # noqa", "The contact rules are a leaf"),
])
def test_a_forbidden_import_breaks_the_build(copy_of_the_tree, offender, line, contract):
    path = copy_of_the_tree / "portal" / offender
    original = path.read_text()
    path.write_text(original + "\n" + line + "\n")
    try:
        result = _lint_imports(copy_of_the_tree)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(contract in row for row in broken) or f"{contract}" in result.stdout.split("Broken contracts")[-1], \
        result.stdout


def test_no_module_in_the_portal_is_part_of_an_import_cycle():
    sys.path.insert(0, str(ROOT))
    try:
        graph = grimp.build_graph("portal", exclude_type_checking_imports=True)
    finally:
        sys.path.remove(str(ROOT))
    imports = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    cycles = _strongly_connected(imports)
    assert cycles == [], f"import cycles: {cycles}"


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of two or more modules that import each other, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _strongly_connected({"a": {"b"}, "b": set()}) == []
