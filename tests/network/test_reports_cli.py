"""``coopnet report`` from the command line, as a subprocess against running nodes."""

from __future__ import annotations

from pathlib import Path

from models.accounts import OPERATOR
from models.network.reports import ReportState
from node.network import reports
from tests.conftest import MakeNode
from tests.network.test_reports import SEMESTER, ally, state_of
from tests.node.test_sel_exchanges import until
from tests.procs import coopnet


async def test_compose_show_send_list_on_a_section_and_on_the_seat(
    make_node: MakeNode, tmp_path: Path
) -> None:
    seat = await make_node("siege", "seat")
    lome = await make_node("lome")
    data = str(lome.config.data_dir)
    semester = str(SEMESTER)

    # Without a seat: refused, with what to do.
    code, out, err = await coopnet("report", "send", "--data", data)
    assert code == 1 and "ally with the seat first" in err, err

    await ally(seat, lome)
    text = tmp_path / "texte.md"
    text.write_text("Un semestre **actif** à Lomé.\n", encoding="utf-8")
    code, out, err = await coopnet(
        "report", "compose", "--data", data, "--semester", semester, "--text", str(text)
    )
    assert code == 0, err
    assert f"report {semester} composed" in out
    code, out, err = await coopnet("report", "show", "--data", data, "--semester", semester)
    assert code == 0, err
    assert "Mediators" in out and "Hostings per mediator" in out and "actif" in out
    code, out, err = await coopnet("report", "send", "--data", data, "--semester", semester)
    assert code == 0, err
    assert "queued for the seat" in out

    async def acknowledged() -> bool:
        return await state_of(lome) == ReportState.ACKNOWLEDGED

    await until(acknowledged, "the seat's acknowledgement", limit=30)
    code, out, err = await coopnet("report", "list", "--data", data)
    assert code == 0, err
    assert semester in out and "acknowledged" in out

    seat_data = str(seat.config.data_dir)
    code, out, err = await coopnet("report", "list", "--data", seat_data)
    assert code == 0 and "received" in out and lome.actor_id in out, (out, err)
    code, out, err = await coopnet(
        "report", "show", "--data", seat_data, "--semester", semester, "--section", lome.actor_id
    )
    assert code == 0 and "actif" in out and "Mediators" in out, (out, err)
    assert await reports.report_of(seat.node, SEMESTER, by=OPERATOR) is None


async def test_wrong_arguments_are_refused_with_a_reason(
    make_node: MakeNode, tmp_path: Path
) -> None:
    lome = await make_node("lome", run_workers=False)
    data = str(lome.config.data_dir)
    latin1 = tmp_path / "latin1.md"
    latin1.write_bytes("été".encode("latin-1"))
    big = tmp_path / "big.md"
    big.write_bytes(b"x" * 200_001)
    cases = [
        (("report", "compose", "--data", data, "--semester", "2026-S3"), "is not a semester"),
        (("report", "compose", "--data", data, "--semester", "2099-S1"), "has not begun"),
        (("report", "compose", "--data", data, "--text", str(tmp_path / "none")), "cannot read"),
        (("report", "compose", "--data", data, "--text", str(latin1)), "is not UTF-8"),
        (("report", "compose", "--data", data, "--text", str(big)), "must be shorter"),
        (("report", "show", "--data", data, "--semester", "2020-S1"), "no report composed"),
        (("report", "show", "--data", data, "--section", "https://x.example/u"), "no report from"),
    ]
    for argv, says in cases:
        code, out, err = await coopnet(*argv)
        assert code == 1 and says in err, (argv, code, err)
        assert "Traceback" not in err
    code, out, err = await coopnet("report", "--data", data)
    assert code == 2 and "ACTION" in err
    code, out, err = await coopnet("report", "compose", "--help")
    assert code == 0 and "--text" in out
