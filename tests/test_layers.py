"""Dependencies point inward: federation/ knows neither storage nor the web
app; models/ never imports aiohttp. Parsed from the source, so a stray
import anywhere in a module (even inside a function) is caught."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "federation": {"models", "node", "sqlalchemy", "alembic", "jinja2", "aiohttp_jinja2"},
    "models": {"node", "aiohttp", "aiohttp_jinja2", "jinja2"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_its_layer(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no source found for {package}"
    offenders = {
        str(f.relative_to(ROOT)): sorted(imported_roots(f) & FORBIDDEN[package]) for f in files
    }
    assert {f: bad for f, bad in offenders.items() if bad} == {}


def test_signatures_module_is_pure() -> None:
    """Signing and verifying run without any I/O: no network, web or storage library."""
    roots = imported_roots(ROOT / "federation" / "signatures.py")
    io = {"aiohttp", "asyncio", "socket", "sqlalchemy", "requests", "http", "models", "node"}
    assert roots & io == set()
    assert "cryptography" in roots
