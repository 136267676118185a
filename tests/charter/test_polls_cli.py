"""``coopnet poll``: help, the happy path, and refusals that change nothing.

Commands run in-process through ``node.cli.main`` on a data directory made
by ``coopnet init`` on the backend under test; one also runs as a real
process. A refused command exits non-zero with one clear line on stderr and
leaves the database as it was (compared as a full dump, tests/dbtools.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from node.cli import main
from tests import dbtools
from tests.procs import coopnet

BASE = "http://127.0.0.1:8999"
OPENED = re.compile(r"^poll ([0-9a-f-]{36}) open until ", re.M)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's refusals
        code = int(exc.code or 0)
    except Exception as exc:
        pytest.fail(f"coopnet {' '.join(argv)}: uncaught {type(exc).__name__}: {exc}")
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    return lines[-1]


def later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    target = tmp_path / "data"
    code, _, err = run(
        capsys,
        "init", "--data", str(target), "--url", BASE, "--name", "lome", "--role", "section",
        *dbtools.init_database_args(),
    )  # fmt: skip
    assert code == 0, err
    return target


@pytest.mark.parametrize("action", [None, "open", "list", "show", "close"])
def test_help(capsys: pytest.CaptureFixture[str], action: str | None) -> None:
    with pytest.raises(SystemExit) as info:
        main(["poll", *([action] if action else []), "--help"])
    out, err = capsys.readouterr()
    assert info.value.code == 0, err
    assert out.startswith("usage: coopnet poll"), out
    if action == "open":
        for word in ("--option", "--multiple", "--closes", "--public", "--data"):
            assert word in out


def test_open_list_show_close(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "poll", "open", "--data", str(data), "Quel jour ?",
        "--option", "Samedi", "--option", "Dimanche", "--closes", later(days=3), "--public",
    )  # fmt: skip
    assert code == 0, err
    found = OPENED.search(out)
    assert found, out
    ref = found[1]
    assert f"{BASE}/polls/{ref}" in out
    code, out, _ = run(capsys, "poll", "list", "--data", str(data))
    assert code == 0 and ref in out and "open" in out and "public" in out
    code, out, _ = run(capsys, "poll", "show", "--data", str(data), ref)
    assert code == 0
    assert "Samedi" in out and "fediverse" in out and "none yet" in out
    code, out, _ = run(capsys, "poll", "close", "--data", str(data), ref)
    assert code == 0 and "closed" in out
    code, out, _ = run(capsys, "poll", "show", "--data", str(data), ref)
    assert out.splitlines()[1].startswith("closed, public, one choice")
    # Closing twice is refused, and the second refusal changed nothing.
    before = dbtools.dump(data)
    code, _, err = run(capsys, "poll", "close", "--data", str(data), ref)
    assert code == 1 and one_line(err) == "coopnet poll: error: this poll is already closed"
    assert dbtools.dump(data) == before


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["--option", "Oui", "--closes", "+2d"], 1, "give at least 2 options, one per line"),
        (
            [*(x for i in range(21) for x in ("--option", f"O{i}")), "--closes", "+2d"],
            1,
            "at most 20 options",
        ),
        (["--option", "Oui", "--option", "Non", "--closes", "2020-01-01T10:00"], 1, "5 minutes"),
        (["--option", "Oui", "--option", "oui", "--closes", "+2d"], 1, "the same text"),
        (["--option", "Oui", "--option", "Non", "--closes", "demain"], 2, "YYYY-MM-DDTHH:MM"),
        (["--option", "Oui", "--option", "Non"], 2, "--closes"),
        (["--closes", "+2d"], 2, "--option"),
    ],
)
def test_open_refusals(
    data: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    exit_code: int,
    message: str,
) -> None:
    args = [later(days=2) if a == "+2d" else a for a in args]
    before = dbtools.dump(data)
    code, out, err = run(capsys, "poll", "open", "--data", str(data), "Question ?", *args)
    assert code == exit_code, (out, err)
    assert message in one_line(err), err
    assert dbtools.dump(data) == before


def test_unknown_polls_and_actions(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = dbtools.dump(data)
    for action in ("show", "close"):
        code, _, err = run(capsys, "poll", action, "--data", str(data), "no-such-poll")
        assert code == 1 and "no poll 'no-such-poll'" in one_line(err)
    code, _, err = run(capsys, "poll", "vote", "--data", str(data))
    assert code == 2 and "invalid choice" in one_line(err)
    code, out, _ = run(capsys, "poll", "list", "--data", str(data))
    assert code == 0 and "no polls yet" in out
    assert dbtools.dump(data) == before


async def test_as_a_process(data: Path) -> None:
    code, out, err = await coopnet(
        "poll", "open", "--data", str(data), "Oui ou non ?", "--option", "Oui",
        "--closes", later(days=1),
    )  # fmt: skip
    assert code == 1 and out == ""
    assert err.strip() == "coopnet poll: error: give at least 2 options, one per line"
