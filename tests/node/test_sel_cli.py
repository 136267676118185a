"""``coopnet sel``: help, refusals, the happy path, and tamper-evidence.

Commands run in-process through ``node.cli.main`` on a real data directory made by
``coopnet init`` on the backend under test (no server is needed, except for the
commands that talk to another section, which get real nodes on loopback and run
``main`` in a worker thread). A refused command must exit non-zero with one clear line
on stderr, no traceback, and leave the database as it was (compared as a full dump:
schema and every row, tests/dbtools.py). The ledger is tampered with directly in the
database, with plain SQL, as someone with access to the disk or the database could.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from node.cli import main
from tests import dbtools
from tests.conftest import MakeNode
from tests.peers.mastodon import MastodonLikePeer

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://127.0.0.1:8999"
EXCHANGE_URL = re.compile(
    rf"^(pending|confirmed|cancelled|rejected): {re.escape(BASE)}/sel/exchanges/([0-9a-f-]{{36}})$"
)

# ----------------------------------------------------------------------------- helpers


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except Exception as exc:  # in a terminal: a traceback instead of one clear line
        pytest.fail(f"coopnet {' '.join(argv)}: uncaught {type(exc).__name__}: {exc}")
    out, err = capsys.readouterr()
    return code, out, err


def quiet(*argv: str) -> str:
    """``main(argv)`` outside a test's capsys (module fixtures); its stdout, or a failure."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    assert code == 0, (argv, err.getvalue())
    return out.getvalue()


def one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    return lines[0]


dump = dbtools.dump  # the schema and every row: equal dumps mean an unchanged database

SEL_TABLES = ("sel_accounts", "sel_entries", "sel_exchanges", "sel_ledger_head")


async def sel_dump(data: Path) -> list[str]:
    """Only the SEL tables (a command that looked up another node may cache its actor)."""
    lines = await dbtools.adump(data, SEL_TABLES)
    assert any(line.startswith("sel_accounts\t") for line in lines), lines
    return lines


def sql(data: Path, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one statement (committed): the rows it returns, if any."""
    if statement.lstrip().upper().startswith("SELECT"):
        return list(dbtools.rows(data, statement, *params))
    assert dbtools.execute(data, statement, *params) >= 1, statement
    return []


def init(data: Path, url: str = BASE) -> None:
    quiet(
        "init", "--data", str(data), "--url", url, "--name", "lome", "--role", "section",
        *dbtools.init_database_args(),
    )  # fmt: skip


def exchange_id(out: str) -> str:
    match = EXCHANGE_URL.match(out.strip())
    assert match, out
    return match[2]


# ----------------------------------------------------------------------------- help

ACTIONS = [
    "account",
    "peer",
    "exchange",
    "confirm",
    "reject",
    "cancel",
    "history",
    "balances",
    "verify",
    "reconcile",
    "export",
]


@pytest.mark.parametrize("action", [None, *ACTIONS], ids=lambda a: a or "sel")
def test_help(capsys: pytest.CaptureFixture[str], action: str | None) -> None:
    argv = ["sel", *([action] if action else []), "--help"]
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    assert info.value.code == 0, err
    assert out.startswith("usage: coopnet sel"), out
    if action is None:
        for name in ACTIONS:
            assert name in out, name
    else:
        assert "--data" in out


def test_help_as_a_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "node", "sel", "exchange", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    for word in ("--from", "--to", "--hours", "--description", "--category"):
        assert word in proc.stdout


# ----------------------------------------------------------------------------- refusals


@dataclass
class World:
    """A section with two members, one pending and one confirmed exchange."""

    data: Path
    pending: str
    confirmed: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data = tmp_path_factory.mktemp("sel-cli") / "data"
    init(data)
    d = str(data)
    quiet("sel", "account", "--data", d, "ama", "--name", "Ama")
    quiet("sel", "account", "--data", d, "kofi", "--name", "Kofi")
    pending = exchange_id(
        quiet(
            "sel", "exchange", "--data", d, "--from", "ama", "--to", "kofi", "--hours", "1",
            "--description", "jardinage",
        )
    )  # fmt: skip
    confirmed = exchange_id(
        quiet(
            "sel", "exchange", "--data", d, "--from", "kofi", "--to", "ama", "--hours", "2",
            "--description", "couture",
        )
    )  # fmt: skip
    quiet("sel", "confirm", "--data", d, confirmed, "--as", "ama")
    yield World(data, pending, confirmed)


def ex(*extra: str, hours: str = "1", payer: str = "ama", payee: str = "kofi") -> list[str]:
    return [
        "sel", "exchange", "--data", "{data}", "--from", payer, "--to", payee, f"--hours={hours}",
        "--description", "x", *extra,
    ]  # fmt: skip


REFUSALS: list[tuple[str, list[str], str]] = [
    ("account-bad-code", ["sel", "account", "--data", "{data}", "Bad Code!"], "code"),
    ("account-uppercase", ["sel", "account", "--data", "{data}", "Ama2"], "code"),
    ("account-duplicate", ["sel", "account", "--data", "{data}", "ama"], "already exists"),
    (
        "account-positive-lower",
        ["sel", "account", "--data", "{data}", "yao", "--lower", "5"],
        "lower limit",
    ),
    (
        "account-negative-upper",
        ["sel", "account", "--data", "{data}", "yao", "--upper", "-5"],
        "upper limit",
    ),
    (
        "account-change-positive-lower",
        ["sel", "account", "--data", "{data}", "ama", "--lower", "5"],
        "lower limit",
    ),
    ("account-garbage-limit", ["sel", "account", "--data", "{data}", "yao", "--lower", "x"], "x"),
    (
        "account-huge-limit",
        ["sel", "account", "--data", "{data}", "yao", "--lower=-1e1000000"],
        "-1e1000000",
    ),
    ("exchange-negative", ex(hours="-1"), "positive"),
    ("exchange-zero", ex(hours="0"), "positive"),
    ("exchange-zero-minutes", ex(hours="0m"), "positive"),
    ("exchange-garbage", ex(hours="abc"), "abc"),
    ("exchange-nan", ex(hours="nan"), "nan"),
    ("exchange-infinite", ex(hours="inf"), "inf"),
    ("exchange-absurd", ex(hours="1e9"), "write hours like"),
    ("exchange-absurd-plain", ex(hours="99999"), "1000 hours"),
    ("exchange-huge-exponent", ex(hours="1e1000000"), "1e1000000"),
    ("exchange-negative-hours-part", ex(hours="-1h90"), "-1h90"),
    ("exchange-negative-minutes-part", ex(hours="1h-30"), "1h-30"),
    ("exchange-expiry-nan", ex("--expires-in", "nan"), "expir"),
    ("exchange-expiry-infinite", ex("--expires-in", "inf"), "expir"),
    ("exchange-expiry-huge", ex("--expires-in", "1e20"), "expir"),
    ("exchange-unknown-payer", ex(payer="nobody"), "nobody"),
    ("exchange-unknown-payee", ex(payee="nobody"), "nobody"),
    ("exchange-same-member", ex(payee="ama"), "themselves"),
    ("exchange-unknown-category", ex("--category", "bitcoin"), "category"),
    ("exchange-over-limit", ex(hours="23"), "limit"),  # ama is at +2 h, limit -20 h
    ("exchange-empty-description", [*ex()[:-2], "--description", "  "], "describe"),
    ("exchange-non-peer-section", ex(payee="bob@127.0.0.1:9"), "not a SEL peer"),
    ("confirm-wrong-member", ["sel", "confirm", "--data", "{data}", "{pending}", "--as", "ama"],
     "kofi"),
    ("confirm-twice", ["sel", "confirm", "--data", "{data}", "{confirmed}"], "confirmed"),
    ("confirm-unknown", ["sel", "confirm", "--data", "{data}", "nope"], "nope"),
    ("reject-confirmed", ["sel", "reject", "--data", "{data}", "{confirmed}"], "confirmed"),
    ("reject-wrong-member", ["sel", "reject", "--data", "{data}", "{pending}", "--as", "ama"],
     "kofi"),
    ("cancel-pending", ["sel", "cancel", "--data", "{data}", "{pending}"], "pending"),
    (
        "export-unwritable",
        ["sel", "export", "--data", "{data}", "accounts", "--out", "{data}/no/such/dir.csv"],
        "no such",
    ),
    ("history-unknown-account", ["sel", "history", "--data", "{data}", "--account", "zed"], "zed"),
    (
        "peer-unreachable",
        ["sel", "peer", "--data", "{data}", "--max-deficit", "5", "--max-surplus", "5",
         "ghost@127.0.0.1:9"],
        "ghost@127.0.0.1:9",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "word"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refused_command_says_why_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], world: World, argv: list[str], word: str
) -> None:
    values = {k: str(v) for k, v in vars(world).items()}
    args = [a.format(**values) for a in argv]
    before = dump(world.data)
    code, out, err = run(capsys, *args)
    line = one_line(err)
    assert code != 0, (args, out)
    assert line.startswith("coopnet sel: error: "), line
    assert word.lower() in line.lower(), f"the error does not name {word!r}: {line}"
    assert out == "", out
    assert dump(world.data) == before, "a refused command changed the database"


def test_refusal_as_a_process_prints_no_traceback(world: World) -> None:
    """What an operator sees in a terminal: one line, exit 1, nothing else."""
    proc = subprocess.run(
        [sys.executable, "-m", "node", *(a.format(data=world.data) for a in ex(hours="-1"))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 1, proc
    assert proc.stdout == ""
    assert one_line(proc.stderr).startswith("coopnet sel: error: ")


@pytest.mark.parametrize(
    "argv",
    [["sel", "balances"], ["sel", "history"], ["sel", "export", "exchanges"], ["deliveries"]],
    ids=lambda a: " ".join(a),
)
def test_output_to_a_closed_pipe_stops_quietly(world: World, argv: list[str]) -> None:
    """`coopnet sel balances | head -1`: when the reader has gone, the command stops
    without an error message or a traceback, with the exit status of a SIGPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "node", argv[0], *argv[1:2], "--data", str(world.data),
             *argv[2:]],
            cwd=ROOT,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=30,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert proc.stderr == "", proc.stderr
    assert proc.returncode == 141


async def test_reconcile_with_a_section_that_is_not_a_peer(
    capsys: pytest.CaptureFixture[str], make_node: MakeNode
) -> None:
    lome = await make_node("lome")
    mars = await make_node("marseille")
    data = lome.config.data_dir
    before = await sel_dump(data)
    code = await asyncio.to_thread(main, ["sel", "reconcile", "--data", str(data), mars.acct])
    out, err = capsys.readouterr()
    line = one_line(err)
    assert code != 0, out
    assert line.startswith("coopnet sel: error: "), line
    assert "not a SEL peer" in line, line
    assert out == ""
    assert await sel_dump(data) == before


async def test_peer_that_is_not_a_section_is_refused(
    capsys: pytest.CaptureFixture[str], make_node: MakeNode
) -> None:
    """A Mastodon account (not a coopnet node) cannot be a SEL peer."""
    lome = await make_node("lome")
    data = lome.config.data_dir
    before = await sel_dump(data)
    async with MastodonLikePeer() as peer:
        code = await asyncio.to_thread(
            main,
            [
                "sel", "peer", "--data", str(data), "--max-deficit", "5", "--max-surplus", "5",
                peer.acct(),
            ],
        )  # fmt: skip
    out, err = capsys.readouterr()
    line = one_line(err)
    assert code != 0, out
    assert line.startswith("coopnet sel: error: "), line
    assert "not a coopnet section" in line, line
    assert await sel_dump(data) == before


# ----------------------------------------------------------------------------- happy path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    init(path)
    return path


def test_accounts_exchange_confirm_history_balances_export_verify(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path
) -> None:
    d = str(data)
    code, out, err = run(capsys, "sel", "account", "--data", d, "ama", "--name", "Ama Mensah")
    assert code == 0, err
    assert out.strip() == "opened ama (open), limits -20 h / 20 h"
    code, out, err = run(
        capsys, "sel", "account", "--data", d, "kofi", "--name", "Kofi", "--lower", "-10",
        "--upper", "10",
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == "opened kofi (open), limits -10 h / 10 h"

    code, out, err = run(
        capsys, "sel", "exchange", "--data", d, "--from", "ama", "--to", "kofi", "--hours",
        "1h30", "--description", "Réparation du vélo", "--category", "repair",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("pending: ")
    ident = exchange_id(out)
    url = out.strip().split(": ", 1)[1]

    # Nothing posts before the other member confirms.
    code, out, _ = run(capsys, "sel", "balances", "--data", d)
    assert re.search(r"^member\s+ama\s+0 h ", out, re.M), out

    code, out, err = run(capsys, "sel", "confirm", "--data", d, ident, "--as", "kofi")
    assert code == 0, err
    assert out.strip() == f"confirmed: {url}"

    code, out, err = run(capsys, "sel", "history", "--data", d)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    for word in ("confirmed", "ama", "kofi", "1.5 h", "repair", "Réparation du vélo", ident):
        assert word in lines[0], (word, lines[0])
    code, out, err = run(capsys, "sel", "history", "--data", d, "--account", "kofi")
    assert code == 0 and ident in out, err

    code, out, err = run(capsys, "sel", "balances", "--data", d)
    assert code == 0, err
    assert re.search(r"^member\s+ama\s+-1\.5 h\s+\[-20 h, 20 h\] open$", out, re.M), out
    assert re.search(r"^member\s+kofi\s+1\.5 h\s+\[-10 h, 10 h\] open$", out, re.M), out
    assert out.strip().splitlines()[-1] == "total: 0 h", out

    code, out, err = run(capsys, "sel", "export", "--data", d, "accounts")
    assert code == 0, err
    accounts = {r["code"]: r for r in csv.DictReader(io.StringIO(out))}
    assert set(accounts) == {"ama", "kofi"}
    assert accounts["ama"]["name"] == "Ama Mensah"
    assert (accounts["ama"]["balance_minutes"], accounts["kofi"]["balance_minutes"]) == (
        "-90",
        "90",
    )
    assert accounts["kofi"]["lower_limit_minutes"] == "-600"
    assert accounts["ama"]["kind"] == "member" and accounts["ama"]["status"] == "open"

    target = tmp_path / "exchanges.csv"
    code, out, err = run(capsys, "sel", "export", "--data", d, "exchanges", "--out", str(target))
    assert code == 0, err
    with target.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["id"] == url
    assert (row["role"], row["state"], row["payer"], row["payee"]) == (
        "local",
        "confirmed",
        "ama",
        "kofi",
    )
    assert (row["minutes"], row["category"], row["description"]) == (
        "90",
        "repair",
        "Réparation du vélo",
    )

    code, out, err = run(capsys, "sel", "verify", "--data", d)
    assert code == 0, (out, err)
    assert "problem" not in out
    assert "1 entries checked" in out and "verified" in out


def test_reject_and_cancel_leave_a_zero_sum_trail(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    d = str(data)
    quiet("sel", "account", "--data", d, "ama")
    quiet("sel", "account", "--data", d, "kofi")
    first = exchange_id(
        quiet(
            "sel", "exchange", "--data", d, "--from", "ama", "--to", "kofi", "--hours", "2",
            "--description", "x", "--recorded-by", "payee",
        )
    )  # fmt: skip
    # Recorded by the payee: the payer (ama) answers.
    code, out, err = run(capsys, "sel", "reject", "--data", d, first, "--as", "ama")
    assert code == 0, err
    assert out.startswith("rejected: ")
    second = exchange_id(
        quiet(
            "sel", "exchange", "--data", d, "--from", "ama", "--to", "kofi", "--hours", "2",
            "--description", "y",
        )
    )  # fmt: skip
    quiet("sel", "confirm", "--data", d, second)  # the admin confirms
    code, out, err = run(capsys, "sel", "cancel", "--data", d, second, "--reason", "erreur")
    assert code == 0, err
    assert out.startswith("cancelled: ")
    code, out, _ = run(capsys, "sel", "balances", "--data", d)
    assert re.search(r"^member\s+ama\s+0 h ", out, re.M), out
    assert sql(data, "SELECT kind, amount FROM sel_entries ORDER BY seq") == [
        ("exchange", 120),
        ("reversal", 120),
    ]
    code, out, err = run(capsys, "sel", "verify", "--data", d)
    assert code == 0, out


# ----------------------------------------------------------------------------- tamper-evidence


@pytest.fixture
def ledger(data: Path) -> Path:
    """Two confirmed exchanges: ama pays kofi 1.5 h, kofi pays ama 0.5 h."""
    d = str(data)
    quiet("sel", "account", "--data", d, "ama")
    quiet("sel", "account", "--data", d, "kofi")
    for payer, payee, hours in (("ama", "kofi", "1.5"), ("kofi", "ama", "0.5")):
        ident = exchange_id(
            quiet(
                "sel", "exchange", "--data", d, "--from", payer, "--to", payee, "--hours", hours,
                "--description", "x",
            )
        )  # fmt: skip
        quiet("sel", "confirm", "--data", d, ident)
    assert "ledger verified" in quiet("sel", "verify", "--data", d)
    return data


def verify_problems(capsys: pytest.CaptureFixture[str], data: Path) -> list[str]:
    code, out, err = run(capsys, "sel", "verify", "--data", str(data))
    assert "Traceback" not in err, err
    problems = [line for line in out.splitlines() if line.startswith("problem:")]
    assert code == (1 if problems else 0), (code, out)
    return problems


def test_verify_detects_an_altered_amount(capsys: pytest.CaptureFixture[str], ledger: Path) -> None:
    assert verify_problems(capsys, ledger) == []
    sql(ledger, "UPDATE sel_entries SET amount = 30 WHERE seq = 1")
    problems = verify_problems(capsys, ledger)
    assert problems, "an altered amount went unnoticed"
    assert any("entry 1" in p and "altered" in p for p in problems), problems
    # Putting the original value back makes the chain whole again.
    sql(ledger, "UPDATE sel_entries SET amount = 90 WHERE seq = 1")
    assert verify_problems(capsys, ledger) == []


def test_verify_detects_an_altered_amount_with_balances_adjusted(
    capsys: pytest.CaptureFixture[str], ledger: Path
) -> None:
    """A careful forger also fixes the balances so that they add up: the hash still tells."""
    sql(ledger, "UPDATE sel_entries SET amount = 60 WHERE seq = 1")
    sql(ledger, "UPDATE sel_accounts SET balance = balance + 30 WHERE code = 'ama'")
    sql(ledger, "UPDATE sel_accounts SET balance = balance - 30 WHERE code = 'kofi'")
    problems = verify_problems(capsys, ledger)
    assert problems, "a consistent forgery went unnoticed"
    assert any("altered" in p for p in problems), problems


def test_verify_detects_a_deleted_last_entry(
    capsys: pytest.CaptureFixture[str], ledger: Path
) -> None:
    sql(ledger, "DELETE FROM sel_entries WHERE seq = (SELECT max(seq) FROM sel_entries)")
    problems = verify_problems(capsys, ledger)
    assert problems, "a deleted entry went unnoticed"
    assert any("removed" in p or "head" in p for p in problems), problems


def test_verify_detects_a_broken_zero_sum(capsys: pytest.CaptureFixture[str], ledger: Path) -> None:
    sql(ledger, "UPDATE sel_accounts SET balance = balance + 60 WHERE code = 'ama'")
    problems = verify_problems(capsys, ledger)
    assert any("not zero" in p for p in problems), problems
    assert any(p.startswith("problem: ama:") for p in problems), problems
