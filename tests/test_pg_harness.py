"""The test harness's PostgreSQL: a missing server fails the run, it never skips.

``./dev test``'s second pass (and CI) must really run on PostgreSQL: when no
server binaries can be found, starting the throw-away server raises, so
every test that needs it errors instead of quietly passing on nothing.
(A COOPNET_TEST_DB that names neither backend stops the run: tests/conftest.py.)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests import pg


@pytest.mark.parametrize("ci", ["true", None])
def test_no_postgresql_binaries_is_an_error_not_a_skip(
    monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.setattr(Path, "glob", lambda _self, _pattern: iter(()))
    monkeypatch.setitem(sys.modules, "pgserver", None)  # import pgserver: ImportError
    with pytest.raises(RuntimeError, match="no PostgreSQL server binaries"):
        pg._bin_dir()
