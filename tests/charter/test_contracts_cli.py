"""``coopnet contract …`` and ``coopnet satisfaction …`` on a real data directory.

Commands run in-process through ``node.cli.main``; the client's signature
goes through the same action as the signing page. A refused command prints
one line, exits non-zero and leaves the database exactly as it was
(compared as a full dump).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from models.charter.signing import ClientDetails
from node.charter import contracts as act
from node.cli import main
from node.config import load_config
from node.context import Node
from tests import dbtools
from tests.node.test_content_cli import init, one_line, quiet, run, usage_exit

MODEL = "Contrat entre {mediator} et {client} : {service}, {price}, part {share}.\n"
CONDITIONS = "Conditions générales, du {start} au {end} ({duration}).\n"


def details(name: str = "Afi Dossou") -> ClientDetails:
    return ClientDetails(
        full_name=name,
        address="12 rue des Palmiers, Lomé",
        email="afi@example.org",
        phone="+228 90 00 00 00",
        counterpart="article",
        counterpart_detail="Notre chorale solidaire",
        typed_name=name,
        consent=True,
    )


def sign(data: Path, link: str) -> str:
    """The client signs through ``link`` (as the page does); the copy link."""

    async def go() -> str:
        node = await Node.open(load_config(data))
        try:
            _, copy = await act.client_sign(node, link.rsplit("/", 1)[1], details())
            return copy
        finally:
            await node.close()

    return dbtools.blocking(go())


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "lome"
    init(d)
    quiet("mediator", "add", "--data", str(d), "ama", "--display-name", "Ama Mensah")
    (tmp_path / "model.md").write_text(MODEL, encoding="utf-8")
    (tmp_path / "conditions.md").write_text(CONDITIONS, encoding="utf-8")
    return d


def create(data: Path, *extra: str, share: str = "5000") -> tuple[str, str]:
    out = quiet(
        "contract", "create", "--data", str(data), "--mediator", "ama", "--client", "Lumière",
        "--duration", "12 mois", "--start", "2027-01-01", "--end", "2027-12-31",
        "--share", share, *extra,
    )  # fmt: skip
    ref = re.search(r"contract ([0-9a-f-]{36})", out)
    link = re.search(r"(http\S+/contract/\S+)", out)
    assert ref and link, out
    return ref.group(1), link.group(1)


def set_models(data: Path) -> None:
    folder = data.parent
    quiet("contract", "model", "set", "--data", str(data), "--kind", "contract",
          "--file", str(folder / "model.md"))  # fmt: skip
    quiet("contract", "model", "set", "--data", str(data), "--kind", "conditions",
          "--file", str(folder / "conditions.md"))  # fmt: skip


HELP = {
    ("contract",): ["model", "create", "link", "list", "show", "hand-in", "end", "verify"],
    ("contract", "model", "set"): ["--data", "--kind", "--file", "{client}"],
    ("contract", "model", "show"): ["--data", "--kind"],
    ("contract", "create"): [
        "--mediator",
        "--client",
        "--offer",
        "--service",
        "--price",
        "--duration",
        "--start",
        "--end",
        "--share",
    ],  # fmt: skip
    ("contract", "hand-in"): ["UUID", "--share"],
    ("contract", "verify"): ["UUID"],
    ("contract", "end"): ["UUID"],
    ("contract", "link"): ["UUID"],
    ("satisfaction", "list"): ["--data", "--mediator"],
}


@pytest.mark.parametrize("command", sorted(HELP), ids=" ".join)
def test_help(capsys: pytest.CaptureFixture[str], command: tuple[str, ...]) -> None:
    code, out, err = usage_exit(capsys, *command, "--help")
    assert code == 0, err
    assert out.startswith(f"usage: coopnet {' '.join(command)}"), out
    for word in HELP[command]:
        assert word in out, f"{word} missing from `coopnet {' '.join(command)} --help`"


def test_the_whole_lifecycle_from_the_command_line(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_models(data)
    out = quiet("contract", "model", "show", "--data", str(data))
    assert "== contract: version 1" in out and "{client}" in out
    ref, link = create(data, "--service", "Hébergement", "--price", "50000 XOF")
    assert dbtools.rows(data, "SELECT price_minor, currency, share_minor FROM contracts") == [
        (50000, "XOF", 5000)
    ]
    copy = sign(data, link)
    assert "/contract/copy/" in copy
    code, out, err = run(capsys, "contract", "verify", "--data", str(data), ref)
    assert (code, err) == (0, "") and "intact" in out
    code, out, _ = run(capsys, "contract", "show", "--data", str(data), ref)
    assert code == 0 and "signed" in out and "Contrat entre Ama Mensah et Lumière" in out
    assert "version 1" in out
    code, out, _ = run(capsys, "contract", "list", "--data", str(data))
    assert ref in out and "shares due (signed, not handed in): 5000 XOF" in out
    code, out, _ = run(
        capsys, "contract", "hand-in", "--data", str(data), ref, "--share", "5000 XOF"
    )
    assert code == 0 and "handed in" in out
    code, out, _ = run(capsys, "contract", "list", "--data", str(data))
    assert "shares due (signed, not handed in): none" in out and "(paid 5000 XOF)" in out
    code, out, _ = run(capsys, "contract", "end", "--data", str(data), ref)
    assert code == 0 and "/satisfaction/" in out

    async def rate(token: str) -> None:
        node = await Node.open(load_config(data))
        try:
            await act.satisfaction_answer(node, token, "4", "Très bien")
        finally:
            await node.close()

    token = re.search(r"/satisfaction/(\S+)", out)
    assert token
    dbtools.blocking(rate(token.group(1)))
    code, out, _ = run(capsys, "satisfaction", "list", "--data", str(data), "--mediator", "ama")
    assert code == 0 and "4/5  Très bien" in out and "ama: 1 rating(s), average 4.0/5" in out


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE contracts SET signed_text = 'Contrat entre Ama et Lumière : gratuit.'",
        "UPDATE contracts SET client_phone = '+228 11 11 11 11'",
        "UPDATE contracts SET signed_sha256 = '" + "0" * 64 + "'",
        "UPDATE contracts SET counterpart = 'money'",
    ],
)
def test_verify_reports_a_contract_altered_after_signing(
    data: Path, capsys: pytest.CaptureFixture[str], sql: str
) -> None:
    set_models(data)
    ref, link = create(data, "--service", "Hébergement", "--price", "50000 XOF")
    sign(data, link)
    assert run(capsys, "contract", "verify", "--data", str(data), ref)[0] == 0
    dbtools.execute(data, sql)
    code, out, _ = run(capsys, "contract", "verify", "--data", str(data), ref)
    assert code == 1 and "ALTERED" in out
    code, out, _ = run(capsys, "contract", "show", "--data", str(data), ref)
    assert code == 1 and "verification: ALTERED" in out


def test_a_model_edited_after_signing_changes_nothing_signed(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_models(data)
    ref, link = create(data, "--service", "Hébergement", "--price", "120 EUR", share="12")
    sign(data, link)
    new = data.parent / "new.md"
    new.write_text("Nouveau texte pour {client}.\n", encoding="utf-8")
    code, out, _ = run(
        capsys, "contract", "model", "set", "--data", str(data), "--kind", "contract",
        "--file", str(new),
    )  # fmt: skip
    assert code == 0 and "version 2" in out
    code, out, _ = run(capsys, "contract", "show", "--data", str(data), ref)
    assert code == 0 and "on contract model version 1" in out
    assert "Contrat entre Ama Mensah" in out and "Nouveau texte" not in out


def refusals(data: Path, tmp_path: Path) -> list[tuple[list[str], str]]:
    d = str(data)
    bad = tmp_path / "bad.md"
    bad.write_text("Bonjour {clent} et {prix}", encoding="utf-8")
    latin = tmp_path / "latin.md"
    latin.write_bytes("Ré".encode("latin-1"))
    base = ["contract", "create", "--data", d, "--mediator", "ama", "--client", "X",
            "--duration", "1 an", "--start", "2027-01-01", "--end", "2027-12-31"]  # fmt: skip
    return [
        (["contract", "model", "set", "--data", d, "--kind", "contract", "--file", str(bad)],
         "unknown placeholder(s) {clent}, {prix}: the known ones are {client}, {mediator}"),
        (["contract", "model", "set", "--data", d, "--kind", "contract", "--file", str(latin)],
         "not UTF-8"),
        (["contract", "model", "set", "--data", d, "--kind", "contract", "--file",
          str(tmp_path / "missing.md")], "missing.md"),
        ([*base, "--share", "1", "--service", "S"], "give --offer UUID, or both"),
        ([*base, "--share", "1", "--offer", "00000000-0000-0000-0000-000000000000"], "no offer"),
        ([*base, "--share", "1", "--service", "S", "--price", "douze"], "write an amount"),
        ([*base, "--share", "1", "--service", "S", "--price", "10.505 EUR"], "nothing is rounded"),
        ([*base, "--share", "1", "--service", "S", "--price", "100 XOF", "--start", "2027-13-01"],
         "YYYY-MM-DD"),
        ([*base, "--share", "200", "--service", "S", "--price", "100 EUR"],
         "cannot be more than the price"),
        ([*base, "--share", "1 USD", "--service", "S", "--price", "100 EUR"],
         "contract's currency"),
        (["contract", "create", "--data", d, "--mediator", "nobody", "--client", "X",
          "--service", "S", "--price", "1", "--duration", "1", "--start", "2027-01-01",
          "--end", "2027-01-02", "--share", "0"], "no mediator 'nobody'"),
        (["contract", "verify", "--data", d, "nope"], "no contract 'nope'"),
        (["contract", "hand-in", "--data", d, "nope", "--share", "1"], "no contract 'nope'"),
    ]  # fmt: skip


def test_refusals_print_one_line_and_change_nothing(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before the documents exist, no contract can be made.
    code, _, err = run(
        capsys, "contract", "create", "--data", str(data), "--mediator", "ama", "--client", "X",
        "--service", "S", "--price", "1", "--duration", "1", "--start", "2027-01-01",
        "--end", "2027-01-02", "--share", "0",
    )  # fmt: skip
    assert code == 1 and "has not been written yet" in one_line(err)
    set_models(data)
    ref, _ = create(data, "--service", "Hébergement", "--price", "120 EUR", share="12")
    before = dbtools.dump(data)
    for argv, message in refusals(data, tmp_path):
        code, out, err = run(capsys, *argv)
        assert code == 1, (argv, out, err)
        assert message in one_line(err), (argv, err)
    # State refusals: not signed yet.
    for argv, message in [
        (["contract", "hand-in", "--data", str(data), ref, "--share", "1"], "only a signed"),
        (["contract", "end", "--data", str(data), ref], "only a signed contract can end"),
        (["contract", "satisfaction", "--data", str(data), ref], "on a signed contract"),
    ]:
        code, _, err = run(capsys, *argv)
        assert code == 1 and message in one_line(err), (argv, err)
    assert dbtools.dump(data) == before


def test_wrong_arguments_are_usage_errors(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = str(data)
    cases: list[list[Any]] = [
        ["contract", "model", "set", "--data", d, "--kind", "receipt", "--file", "x"],
        ["contract", "model", "set", "--data", d, "--kind", "contract"],
        ["contract", "create", "--data", d, "--client", "X"],
        ["contract", "hand-in", "--data", d, "some-uuid"],
        ["contract", "frobnicate", "--data", d],
        ["satisfaction", "list"],
    ]
    for argv in cases:
        code, out, err = usage_exit(capsys, *argv)
        assert code == 2, argv
        assert "usage: coopnet" in err and "Traceback" not in err


def test_a_new_link_replaces_the_old_and_a_cancelled_contract_has_none(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_models(data)
    ref, first = create(data, "--service", "Hébergement", "--price", "120 EUR", share="12")
    code, out, _ = run(capsys, "contract", "link", "--data", str(data), ref)
    assert code == 0
    second = re.search(r"(http\S+/contract/\S+)", out)
    assert second and second.group(1) != first
    with pytest.raises(Exception, match="not valid"):
        sign(data, first)
    code, _, _ = run(capsys, "contract", "cancel", "--data", str(data), ref)
    assert code == 0
    with pytest.raises(Exception, match="not valid"):
        sign(data, second.group(1))
    code, _, err = run(capsys, "contract", "link", "--data", str(data), ref)
    assert code == 1 and "cancelled" in one_line(err)
    assert main(["contract", "list", "--data", str(data)]) == 0
