"""``coopnet receipt …`` as an operator and as anyone holding a receipt runs it.

The node serves in this process; the CLI runs as real subprocesses against
its data directory (issue, cancel, list, show) or against its URL only
(verify, which needs no data directory).
"""

from __future__ import annotations

import json
from pathlib import Path

from models.accounts import OPERATOR
from models.base import utcnow
from models.mediators import Profile
from node import content
from tests.charter.test_receipts import stored
from tests.charter.test_receipts_for_contracts import signed_contract
from tests.conftest import MakeNode, RunningNode
from tests.procs import coopnet


async def section(make_node: MakeNode) -> RunningNode:
    rn = await make_node("lome", run_workers=False)
    await content.mediator_add(rn.node, "ama", Profile(name="Ama"), by=OPERATOR)
    return rn


async def test_issue_show_verify_cancel_from_the_command_line(
    make_node: MakeNode, tmp_path: Path
) -> None:
    rn = await section(make_node)
    contract = await signed_contract(rn)
    data = str(rn.config.data_dir)
    year = utcnow().year
    day = utcnow().date().isoformat()
    code, out, err = await coopnet(
        "receipt", "issue", "--data", data, "--mediator", "ama", "--payer", "Association Lumière",
        "--amount", "120,50 €", "--for", "hébergement 2027", "--method", "transfer",
        "--date", day, "--contract", contract,
    )  # fmt: skip
    assert code == 0, err
    number = f"LOME-{year}-0001"
    assert out.splitlines()[0] == f"{number}: 120.50 EUR from Association Lumière"
    url = out.splitlines()[1]
    assert url.startswith(f"{rn.url}/receipts/")

    code, out, err = await coopnet("receipt", "verify", url)
    assert code == 0, err
    assert out.splitlines()[0] == (
        f"genuine: {number}, 120.50 EUR, received {day} from Association Lumière"
    )

    code, out, err = await coopnet("receipt", "show", "--data", data, number, "--json")
    assert code == 0, err
    kept = tmp_path / "kept.json"
    kept.write_text(out, encoding="utf-8")
    assert json.loads(out)["state"] == "valid"
    code, out, err = await coopnet("receipt", "verify", str(kept))
    assert code == 0 and out.startswith(f"genuine: {number}"), (out, err)

    # One field changed in the saved copy: refused, with the reason, exit 1.
    doc = json.loads(kept.read_text(encoding="utf-8"))
    doc["receipt"]["amount"]["value"] = "1200.50"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(doc), encoding="utf-8")
    code, out, err = await coopnet("receipt", "verify", str(tampered))
    assert code == 1 and out == ""
    assert "not genuine: proof does not verify" in err, err

    code, out, err = await coopnet("receipt", "show", "--data", data, number)
    assert code == 0 and f"receipt {number}  (valid)" in out and "contract:" in out, out

    code, out, err = await coopnet(
        "receipt", "cancel", "--data", data, number, "--reason", "paid twice"
    )
    assert code == 0, err
    assert out.splitlines()[0] == f"{number} cancelled by LOME-{year}-0002"

    for source in (url, str(kept)):
        code, out, err = await coopnet("receipt", "verify", source)
        assert code == 1, (out, err)
        assert out.startswith(f"cancelled: {number}") and f"LOME-{year}-0002" in out, out
        assert "paid twice" in out and "no longer stands" in err

    code, out, err = await coopnet("receipt", "show", "--data", data, number)
    assert f"CANCELLED by LOME-{year}-0002: paid twice" in out, out
    code, out, err = await coopnet("receipt", "list", "--data", data)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"LOME-{year}-0002") and f"cancels {number}" in lines[0]
    assert lines[1].startswith(number) and f"CANCELLED by LOME-{year}-0002" in lines[1]
    code, out, err = await coopnet("receipt", "list", "--data", data, "--year", "2001")
    assert code == 0 and out.strip() == "no receipts in 2001", out


async def test_refusals_say_why_and_change_nothing(make_node: MakeNode, tmp_path: Path) -> None:
    rn = await section(make_node)
    data = str(rn.config.data_dir)
    base = ["receipt", "issue", "--data", data, "--mediator", "ama", "--payer", "A", "--for", "x"]
    for amount, says in (
        ("-5 EUR", "positive"),
        ("0", "more than zero"),
        ("12 ZZZ", "unknown currency"),
        ("99999999999 EUR", "not a plausible sum"),
    ):
        code, out, err = await coopnet(*base, "--amount", amount)
        assert code == 1 and out == "", (amount, out, err)
        assert err.startswith("coopnet receipt: error: ") and says in err, err
    code, _, err = await coopnet(*base, "--amount", "5", "--date", "30/11/2026")
    assert code == 1 and "YYYY-MM-DD" in err, err
    code, _, err = await coopnet(*base, "--amount", "5", "--method", "barter")
    assert code == 1 and "unknown payment method" in err, err
    code, _, err = await coopnet(
        "receipt", "issue", "--data", data, "--mediator", "nobody", "--payer", "A",
        "--for", "x", "--amount", "5",
    )  # fmt: skip
    assert code == 1 and "no mediator 'nobody'" in err, err
    # A missing option is a usage error (exit 2), shown by argparse.
    code, _, err = await coopnet("receipt", "issue", "--data", data, "--mediator", "ama")
    assert code == 2 and "--payer" in err, err
    code, _, err = await coopnet("receipt", "cancel", "--data", data, "LOME-2026-0042")
    assert code == 2 and "--reason" in err, err
    code, _, err = await coopnet(
        "receipt", "cancel", "--data", data, "LOME-2026-0042", "--reason", "x"
    )
    assert code == 1 and "no receipt 'LOME-2026-0042'" in err, err
    code, _, err = await coopnet("receipt", "show", "--data", data, "hello")
    assert code == 1 and "neither a receipt number" in err, err
    code, _, err = await coopnet("receipt", "verify", str(tmp_path / "nothing.json"))
    assert code == 1 and "neither an http(s) URL nor a readable file" in err, err
    code, _, err = await coopnet(
        "receipt", "verify", f"{rn.url}/receipts/00000000-0000-4000-8000-000000000000"
    )
    assert code == 1 and "no such receipt" in err, err
    assert await stored(rn) == []

    code, out, _ = await coopnet("receipt", "--help")
    assert code == 0 and all(a in out for a in ("issue", "cancel", "list", "show", "verify"))
    code, out, _ = await coopnet("receipt", "verify", "--help")
    assert code == 0 and "URL_OR_FILE" in out and "--data" not in out
