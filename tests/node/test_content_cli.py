"""``coopnet mediator|offer|bulletin``: help, refusals and the happy paths.

Commands run in-process through ``node.cli.main`` on a real data directory
(made by ``coopnet init`` on the backend under test; no server is needed). A
refused command must exit non-zero with one clear line on stderr, no traceback,
and leave the database exactly as it was (compared as a full dump: schema and
every row, tests/dbtools.py).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from node.cli import main
from tests import dbtools

BASE = "http://127.0.0.1:8999"
HOST = "127.0.0.1:8999"
OFFER_URL = re.compile(rf"^{re.escape(BASE)}/offers/[0-9a-f-]+$")
BULLETIN_URL = re.compile(rf"^{re.escape(BASE)}/bulletins/[0-9a-f-]+$")

# ----------------------------------------------------------------------------- helpers


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def quiet(*argv: str) -> str:
    """``main(argv)`` outside a test's capsys (module fixtures); its stdout, or a failure."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    assert code == 0, (argv, err.getvalue())
    return out.getvalue()


def usage_exit(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[Any, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    return lines[0]


dump = dbtools.dump  # the schema and every row: equal dumps mean an unchanged database
rows = dbtools.rows  # (data directory, SQL with ? marks, *params)


def init(data: Path) -> None:
    quiet(
        "init", "--data", str(data), "--url", BASE, "--name", "lome", "--role", "section",
        *dbtools.init_database_args(),
    )  # fmt: skip


# ----------------------------------------------------------------------------- help

HELP = {
    ("mediator",): ["add", "update", "remove", "list"],
    ("mediator", "add"): ["--data", "NAME", "--display-name", "--skill", "--contact", "--avatar"],
    ("mediator", "update"): ["--data", "NAME", "--summary", "--area"],
    ("mediator", "remove"): ["--data", "NAME"],
    ("mediator", "list"): ["--data", "--all"],
    ("offer",): ["publish", "update", "withdraw", "list"],
    ("offer", "publish"): [
        "--title",
        "--description",
        "--file",
        "--category",
        "--price",
        "--sel-hours",
        "--area",
        "--contact",
        "--valid-from",
        "--valid-until",
        "--as",
    ],
    ("offer", "update"): ["OFFER", "--title", "--price", "--valid-until"],
    ("offer", "withdraw"): ["OFFER"],
    ("offer", "list"): ["--remote", "--all"],
    ("bulletin",): ["publish", "update", "delete", "list"],
    ("bulletin", "publish"): ["--title", "--file", "--summary"],
    ("bulletin", "update"): ["BULLETIN", "--title", "--file", "--summary"],
    ("bulletin", "delete"): ["BULLETIN"],
    ("bulletin", "list"): ["--remote"],
}


@pytest.mark.parametrize("command", sorted(HELP), ids=" ".join)
def test_content_command_help(capsys: pytest.CaptureFixture[str], command: tuple[str, ...]) -> None:
    code, out, err = usage_exit(capsys, *command, "--help")
    assert code == 0, err
    assert out.startswith(f"usage: coopnet {' '.join(command)}"), out
    for word in HELP[command]:
        assert word in out, f"{word} missing from `coopnet {' '.join(command)} --help`"


# ----------------------------------------------------------------------------- refusals


@dataclass
class World:
    """A data directory with one of everything, to refuse commands against."""

    data: Path
    files: Path
    offer: str
    withdrawn: str
    bulletin: str
    deleted: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("content-cli")
    data, files = root / "data", root / "files"
    files.mkdir()
    (files / "empty.md").write_text("", encoding="utf-8")
    (files / "blank.md").write_text("  \n\n \n", encoding="utf-8")
    (files / "latin1.md").write_bytes("Bulletin d'été, café à Lomé\n".encode("latin-1"))
    (files / "ok.md").write_text("Des nouvelles.\n", encoding="utf-8")
    init(data)
    d = str(data)
    quiet("mediator", "add", "--data", d, "kossi", "--area", "Lomé")
    quiet("mediator", "add", "--data", d, "ancien")
    quiet("mediator", "remove", "--data", d, "ancien")
    offer = quiet(
        "offer",
        "publish",
        "--data",
        d,
        "--title",
        "Hébergement",
        "--description",
        "Texte",
        "--price",
        "25 EUR",
    ).strip()
    withdrawn = quiet(
        "offer",
        "publish",
        "--data",
        d,
        "--title",
        "Ancienne",
        "--description",
        "Texte",
        "--sel-hours",
        "2",
    ).strip()
    quiet("offer", "withdraw", "--data", d, withdrawn)
    bulletin = quiet(
        "bulletin", "publish", "--data", d, "--title", "Octobre", "--file", str(files / "ok.md")
    ).strip()
    deleted = quiet(
        "bulletin", "publish", "--data", d, "--title", "Septembre", "--file", str(files / "ok.md")
    ).strip()
    quiet("bulletin", "delete", "--data", d, deleted)
    yield World(data, files, offer, withdrawn, bulletin, deleted)


PUBLISH = ["--title", "Formation web", "--description", "Deux jours"]

#: (id, argv with {data} {files} {offer} {withdrawn} {bulletin} {deleted}, word the error names)
REFUSALS: list[tuple[str, list[str], str]] = [
    # mediators
    ("mediator-name-space", ["mediator", "add", "--data", "{data}", "Bad Name"], "Bad Name"),
    ("mediator-name-long", ["mediator", "add", "--data", "{data}", "x" * 40], "x" * 40),
    ("mediator-name-upper", ["mediator", "add", "--data", "{data}", "Kossi"], "Kossi"),
    ("mediator-duplicate", ["mediator", "add", "--data", "{data}", "kossi"], "kossi"),
    ("mediator-removed-name", ["mediator", "add", "--data", "{data}", "ancien"], "ancien"),
    ("mediator-node-name", ["mediator", "add", "--data", "{data}", "lome"], "lome"),
    (
        "mediator-contact-js",
        ["mediator", "add", "--data", "{data}", "ama", "--contact", "javascript:alert(1)"],
        "contact",
    ),
    (
        "mediator-avatar-js",
        ["mediator", "add", "--data", "{data}", "ama", "--avatar", "javascript:alert(1)"],
        "avatar",
    ),
    (
        "mediator-update-unknown",
        ["mediator", "update", "--data", "{data}", "nobody", "--area", "Kara"],
        "nobody",
    ),
    (
        "mediator-update-bad-contact",
        ["mediator", "update", "--data", "{data}", "kossi", "--contact", "javascript:alert(1)"],
        "contact",
    ),
    ("mediator-remove-unknown", ["mediator", "remove", "--data", "{data}", "nobody"], "nobody"),
    ("mediator-remove-twice", ["mediator", "remove", "--data", "{data}", "ancien"], "ancien"),
    ("mediator-remove-node", ["mediator", "remove", "--data", "{data}", "lome"], "lome"),
    # offers: publish
    (
        "offer-no-price",
        ["offer", "publish", "--data", "{data}", *PUBLISH],
        "price",
    ),
    (
        "offer-negative-price",
        ["offer", "publish", "--data", "{data}", *PUBLISH, "--price", "-5"],
        "price",
    ),
    (
        "offer-abc-price",
        ["offer", "publish", "--data", "{data}", *PUBLISH, "--price", "abc"],
        "price",
    ),
    (
        "offer-bad-sel-hours",
        ["offer", "publish", "--data", "{data}", *PUBLISH, "--sel-hours", "abc"],
        "sel",
    ),
    (
        "offer-zero-sel-hours",
        ["offer", "publish", "--data", "{data}", *PUBLISH, "--sel-hours", "0"],
        "sel",
    ),
    (
        "offer-unknown-category",
        ["offer", "publish", "--data", "{data}", *PUBLISH, "--price", "5", "--category", "cuisine"],
        "category",
    ),
    (
        "offer-empty-title",
        [
            "offer",
            "publish",
            "--data",
            "{data}",
            "--title",
            "",
            "--description",
            "x",
            "--price",
            "5",
        ],
        "title",
    ),
    (
        "offer-long-title",
        [
            "offer",
            "publish",
            "--data",
            "{data}",
            "--title",
            "t" * 201,
            "--description",
            "x",
            "--price",
            "5",
        ],
        "title",
    ),
    (
        "offer-empty-description",
        [
            "offer",
            "publish",
            "--data",
            "{data}",
            "--title",
            "T",
            "--description",
            " ",
            "--price",
            "5",
        ],
        "description",
    ),
    (
        "offer-ends-before-start",
        [
            "offer",
            "publish",
            "--data",
            "{data}",
            *PUBLISH,
            "--price",
            "5",
            "--valid-from",
            "2030-12-31",
            "--valid-until",
            "2030-12-01",
        ],
        "start",
    ),
    (
        "offer-already-ended",
        [
            "offer",
            "publish",
            "--data",
            "{data}",
            *PUBLISH,
            "--price",
            "5",
            "--valid-until",
            "2020-01-01",
        ],
        "already passed",
    ),
    (
        "offer-as-unknown",
        ["offer", "publish", "--data", "{data}", *PUBLISH, "--price", "5", "--as", "nobody"],
        "nobody",
    ),
    (
        "offer-as-removed",
        ["offer", "publish", "--data", "{data}", *PUBLISH, "--price", "5", "--as", "ancien"],
        "ancien",
    ),
    (
        "offer-missing-file",
        [
            "offer",
            "publish",
            "--data",
            "{data}",
            "--title",
            "T",
            "--file",
            "{files}/nope.md",
            "--price",
            "5",
        ],
        "nope.md",
    ),
    (
        "offer-contact-js",
        [
            "offer",
            "publish",
            "--data",
            "{data}",
            *PUBLISH,
            "--price",
            "5",
            "--contact",
            "javascript:alert(1)",
        ],
        "contact",
    ),
    # offers: update, withdraw
    ("offer-update-nothing", ["offer", "update", "--data", "{data}", "{offer}"], "change"),
    (
        "offer-update-unknown",
        ["offer", "update", "--data", "{data}", "no-such-offer", "--title", "X"],
        "no-such-offer",
    ),
    (
        "offer-update-unknown-url",
        ["offer", "update", "--data", "{data}", f"{BASE}/offers/nope", "--title", "X"],
        "nope",
    ),
    (
        "offer-update-bad-price",
        ["offer", "update", "--data", "{data}", "{offer}", "--price", "abc"],
        "price",
    ),
    (
        "offer-update-withdrawn",
        ["offer", "update", "--data", "{data}", "{withdrawn}", "--title", "X"],
        "withdrawn",
    ),
    ("offer-withdraw-twice", ["offer", "withdraw", "--data", "{data}", "{withdrawn}"], "withdrawn"),
    ("offer-withdraw-unknown", ["offer", "withdraw", "--data", "{data}", "nope"], "nope"),
    # bulletins
    (
        "bulletin-empty-file",
        ["bulletin", "publish", "--data", "{data}", "--title", "T", "--file", "{files}/empty.md"],
        "empty",
    ),
    (
        "bulletin-blank-file",
        ["bulletin", "publish", "--data", "{data}", "--title", "T", "--file", "{files}/blank.md"],
        "empty",
    ),
    (
        "bulletin-missing-file",
        ["bulletin", "publish", "--data", "{data}", "--title", "T", "--file", "{files}/nope.md"],
        "nope.md",
    ),
    (
        "bulletin-not-utf8",
        ["bulletin", "publish", "--data", "{data}", "--title", "T", "--file", "{files}/latin1.md"],
        "latin1.md",
    ),
    (
        "bulletin-empty-title",
        ["bulletin", "publish", "--data", "{data}", "--title", " ", "--file", "{files}/ok.md"],
        "title",
    ),
    (
        "bulletin-as-unknown",
        [
            "bulletin",
            "publish",
            "--data",
            "{data}",
            "--title",
            "T",
            "--file",
            "{files}/ok.md",
            "--as",
            "nobody",
        ],
        "nobody",
    ),
    (
        "bulletin-update-unknown",
        ["bulletin", "update", "--data", "{data}", "nope", "--title", "X"],
        "nope",
    ),
    ("bulletin-update-nothing", ["bulletin", "update", "--data", "{data}", "{bulletin}"], "change"),
    (
        "bulletin-update-deleted",
        ["bulletin", "update", "--data", "{data}", "{deleted}", "--title", "X"],
        "deleted",
    ),
    (
        "bulletin-update-empty-file",
        ["bulletin", "update", "--data", "{data}", "{bulletin}", "--file", "{files}/empty.md"],
        "empty",
    ),
    ("bulletin-delete-unknown", ["bulletin", "delete", "--data", "{data}", "nope"], "nope"),
    ("bulletin-delete-twice", ["bulletin", "delete", "--data", "{data}", "{deleted}"], "deleted"),
]


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
    assert line.startswith(f"coopnet {args[0]}: error: "), line
    assert word.lower() in line.lower(), f"the error does not name {word!r}: {line}"
    assert out == "", out
    assert dump(world.data) == before, "a refused command changed the database"


# ----------------------------------------------------------------------------- happy paths


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    init(path)
    return path


def test_mediator_add_update_remove_list(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    d = str(data)
    code, out, err = run(
        capsys,
        "mediator",
        "add",
        "--data",
        d,
        "ama",
        "--display-name",
        "Ama Mensah",
        "--skill",
        "WordPress",
        "--skill",
        "Linux",
        "--area",
        "Lomé",
        "--contact",
        "mailto:ama@example.org",
        "--avatar",
        "https://example.org/ama.png",
    )
    assert code == 0, err
    assert f"{BASE}/users/ama" in out
    assert rows(
        data,
        "SELECT name, area, contact_url, avatar_url, type FROM local_actors WHERE username = 'ama'",
    ) == [("Ama Mensah", "Lomé", "mailto:ama@example.org", "https://example.org/ama.png", "Person")]

    code, out, _ = run(capsys, "mediator", "list", "--data", d)
    assert code == 0
    (line,) = [x for x in out.splitlines() if "@ama@" in x]
    assert f"@ama@{HOST}" in line and "Ama Mensah" in line and "WordPress" in line

    code, out, err = run(capsys, "mediator", "update", "--data", d, "ama", "--area", "Kara")
    assert code == 0, err
    assert f"{BASE}/users/ama" in out
    code, out, _ = run(capsys, "mediator", "list", "--data", d)
    assert "Kara" in out and "Lomé" not in out

    code, out, err = run(capsys, "mediator", "remove", "--data", d, "ama")
    assert code == 0, err
    assert f"{BASE}/users/ama" in out
    code, out, _ = run(capsys, "mediator", "list", "--data", d)
    assert code == 0
    assert "@ama@" not in out
    code, out, _ = run(capsys, "mediator", "list", "--data", d, "--all")
    assert code == 0
    (line,) = [x for x in out.splitlines() if "@ama@" in x]
    assert "removed" in line


def test_offer_publish_update_withdraw_list(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path
) -> None:
    d = str(data)
    quiet("mediator", "add", "--data", d, "kossi")
    text = tmp_path / "offre.md"
    text.write_text("Nous **hébergeons** vos sites.\n\n- sauvegardes\n- support\n", "utf-8")
    code, out, err = run(
        capsys,
        "offer",
        "publish",
        "--data",
        d,
        "--title",
        "Hébergement associatif",
        "--file",
        str(text),
        "--category",
        "hosting",
        "--price",
        "25 EUR",
        "--sel-hours",
        "1.5",
        "--area",
        "Lomé",
        "--contact",
        "https://example.org/contact",
        "--valid-from",
        "2020-01-01",
        "--valid-until",
        "2099-12-31",
        "--as",
        "kossi",
    )
    assert code == 0, err
    url = out.strip()
    assert OFFER_URL.match(url), out
    stored = rows(
        data,
        "SELECT o.title, o.category, o.price_amount, o.price_currency, o.sel_minutes, o.area, "
        "o.state, a.username FROM offers o JOIN local_actors a ON a.id = o.local_actor_id "
        "WHERE o.uri = ?",
        url,
    )
    assert stored == [
        ("Hébergement associatif", "hosting", "25.00", "EUR", 90, "Lomé", "published", "kossi")
    ]
    assert (
        "<strong>hébergeons</strong>"
        in rows(data, "SELECT content FROM offers WHERE uri = ?", url)[0][0]
    )

    # The section's own offer, priced in SEL hours only.
    code, out, err = run(
        capsys,
        "offer",
        "publish",
        "--data",
        d,
        "--title",
        "Aide informatique",
        "--description",
        "Une heure d'aide",
        "--category",
        "help",
        "--sel-hours",
        "1",
    )
    assert code == 0, err
    help_url = out.strip()
    assert OFFER_URL.match(help_url), out

    code, out, _ = run(capsys, "offer", "list", "--data", d)
    assert code == 0
    assert url in out and help_url in out
    assert "Hébergement associatif" in out and "Aide informatique" in out

    code, out, err = run(
        capsys,
        "offer",
        "update",
        "--data",
        d,
        url,
        "--title",
        "Hébergement (nouveau tarif)",
        "--price",
        "20 EUR",
    )
    assert code == 0, err
    assert out.strip() == url
    assert rows(data, "SELECT title, price_amount FROM offers WHERE uri = ?", url) == [
        ("Hébergement (nouveau tarif)", "20.00")
    ]
    code, out, _ = run(capsys, "offer", "list", "--data", d)
    assert "Hébergement (nouveau tarif)" in out

    uuid = help_url.rsplit("/", 1)[1]
    code, out, err = run(capsys, "offer", "withdraw", "--data", d, uuid)  # by id, not URL
    assert code == 0, err
    assert help_url in out
    code, out, _ = run(capsys, "offer", "list", "--data", d)
    assert help_url not in out and url in out
    code, out, _ = run(capsys, "offer", "list", "--data", d, "--all")
    (line,) = [x for x in out.splitlines() if help_url in x]
    assert "withdrawn" in line

    # Each change queued an activity: Create, Create, Update, Delete.
    assert rows(data, "SELECT type FROM activities ORDER BY id") == [
        ("Create",),
        ("Create",),
        ("Update",),
        ("Delete",),
    ]


def test_bulletin_publish_update_delete_list(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path
) -> None:
    d = str(data)
    text = tmp_path / "novembre.md"
    text.write_text(
        "La section a accueilli trois associations.\n\n## Agenda\n\n- Atelier le 12\n", "utf-8"
    )
    code, out, err = run(
        capsys,
        "bulletin",
        "publish",
        "--data",
        d,
        "--title",
        "Bulletin de novembre",
        "--file",
        str(text),
    )
    assert code == 0, err
    url = out.strip()
    assert BULLETIN_URL.match(url), out
    assert rows(data, "SELECT title, summary FROM bulletins WHERE uri = ?", url) == [
        ("Bulletin de novembre", "La section a accueilli trois associations.")
    ]
    code, out, _ = run(capsys, "bulletin", "list", "--data", d)
    assert code == 0
    (line,) = [x for x in out.splitlines() if url in x]
    assert "Bulletin de novembre" in line

    code, out, err = run(
        capsys,
        "bulletin",
        "update",
        "--data",
        d,
        url,
        "--title",
        "Bulletin de novembre 2026",
        "--summary",
        "Trois nouvelles associations, un atelier.",
    )
    assert code == 0, err
    assert out.strip() == url
    assert rows(data, "SELECT title, summary FROM bulletins WHERE uri = ?", url) == [
        ("Bulletin de novembre 2026", "Trois nouvelles associations, un atelier.")
    ]
    code, out, _ = run(capsys, "bulletin", "list", "--data", d)
    assert "Bulletin de novembre 2026" in out

    code, out, err = run(capsys, "bulletin", "delete", "--data", d, url)
    assert code == 0, err
    assert url in out
    code, out, _ = run(capsys, "bulletin", "list", "--data", d)
    assert code == 0
    assert url not in out
    assert rows(data, "SELECT type FROM activities ORDER BY id") == [
        ("Create",),
        ("Update",),
        ("Delete",),
    ]


def test_bulletin_update_of_the_text_keeps_the_authors_summary(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path
) -> None:
    """`bulletin update --file` without --summary keeps a summary the author gave; a summary
    that was only the first paragraph follows the new text."""
    d = str(data)
    first, second = tmp_path / "v1.md", tmp_path / "v2.md"
    first.write_text("Premier paragraphe.\n\nSuite.\n", "utf-8")
    second.write_text("Nouveau début du texte.\n\nSuite.\n", "utf-8")
    given = "Ce que Mastodon doit montrer."
    publish = ["bulletin", "publish", "--data", d, "--title", "B", "--file", str(first)]
    code, with_summary, err = run(capsys, *publish, "--summary", given)
    assert code == 0, err
    code, derived, err = run(capsys, *publish)
    assert code == 0, err
    for url in (with_summary.strip(), derived.strip()):
        code, _, err = run(capsys, "bulletin", "update", "--data", d, url, "--file", str(second))
        assert code == 0, err
    summary = "SELECT summary FROM bulletins WHERE uri = ?"
    assert rows(data, summary, with_summary.strip()) == [(given,)]
    assert rows(data, summary, derived.strip()) == [("Nouveau début du texte.",)]


def test_remote_lists_are_empty_on_a_new_node(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    for command in ("offer", "bulletin"):
        code, out, err = run(capsys, command, "list", "--data", str(data), "--remote")
        assert code == 0, err
        assert out == ""
        assert "peer" in one_line(err)
