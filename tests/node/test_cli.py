"""The ``coopnet`` command line, as operators and external tools drive it.

Most commands run in-process through ``node.cli.main`` (it calls
``asyncio.run`` itself, so async tests go through a worker thread); where the
process itself matters (exit status, what reaches stderr, signals, ports)
the command runs as a real subprocess of this interpreter.

Nodes are made on the backend under test (``init_args`` adds ``--database``
on PostgreSQL) and their databases are read through ``tests.dbtools``.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from federation.http import BlockedAddress, FetchError, GuardedResolver, address_allowed
from models import migrate
from models.accounts import OPERATOR
from models.actors import get_node_actor, upsert_remote_actor
from models.base import make_engine, make_sessionmaker
from models.follows import add_follower
from node.cli import main
from node.config import CONFIG_NAME, DB_NAME, Config, load_config
from node.context import Node, NodeError
from node.worker import DeliveryWorker, InboxWorker
from tests import dbtools
from tests.conftest import MakeNode
from tests.peers.mastodon import MastodonLikePeer

ROOT = Path(__file__).resolve().parents[2]
COOPNET_SCRIPT = Path(sys.executable).with_name("coopnet")
AP = "application/activity+json"

# ----------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_run(count: int = 3) -> int:
    """A base port such that base .. base+count-1 can all be bound on 127.0.0.1 right now."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randint(20000, 60000)
        socks: list[socket.socket] = []
        try:
            for i in range(count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", base + i))
        except OSError:
            continue
        else:
            return base
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no run of free ports found")


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "node", *args]


def run_sub(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``coopnet ARGS`` as a real process (sync tests only)."""
    return subprocess.run(
        cli_argv(*args), cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


async def run_sub_async(*args: str, within: float = 30) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *cli_argv(*args),
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), within)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def one_line(err: str) -> str:
    """A user mistake: exactly one non-empty line on stderr, and never a traceback."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    return lines[0]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``main(argv)`` in-process (sync tests): (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def arun(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``main(argv)`` from an async test: on a worker thread, since it runs its own loop."""
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_exit(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int | str | None, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def init_args(
    data: Path,
    url: str,
    name: str = "lome",
    role: str = "section",
    database: Sequence[str] | None = None,
) -> list[str]:
    """``coopnet init`` for a node on the backend under test: ``database`` is the
    ``--database`` part (by default a fresh database on PostgreSQL, nothing on SQLite)."""
    if database is None:
        database = dbtools.init_database_args()
    return [
        "init", "--data", str(data), "--url", url, "--name", name, "--role", role, *database
    ]  # fmt: skip


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


db_rows = dbtools.rows  # (data directory, SQL with ? marks, *params) on the node's database


def node_actor(data: Path) -> tuple[str, str, str, str]:
    rows = db_rows(
        data,
        "SELECT username, type, private_key_pem, public_key_pem FROM local_actors WHERE is_node",
    )
    assert len(rows) == 1, rows
    return rows[0]


# ----------------------------------------------------------------------------- help & usage

SUBCOMMAND_OPTIONS = {
    "init": ["--data", "--url", "--name", "--role", "--title", "section", "seat"],
    "serve": ["--data", "--host", "--port"],
    "post": ["--data", "TEXT"],
    "follow": ["--data", "ACCOUNT_OR_URL"],
    "following": ["--data"],
    "followers": ["--data"],
    "deliveries": ["--data", "--state", "--retry-dead"],
    "demo": ["--dir", "--base-port", "--check"],
}


def test_top_level_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = usage_exit(capsys, "--help")
    assert code == 0
    assert out.startswith("usage: coopnet")
    for command in SUBCOMMAND_OPTIONS:
        assert command in out


@pytest.mark.parametrize("command", sorted(SUBCOMMAND_OPTIONS))
def test_subcommand_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = usage_exit(capsys, command, "--help")
    assert code == 0
    assert out.startswith(f"usage: coopnet {command}")
    for option in SUBCOMMAND_OPTIONS[command]:
        assert option in out, f"{option} missing from `coopnet {command} --help`"


def test_console_script_and_module_both_answer_help() -> None:
    assert COOPNET_SCRIPT.is_file(), f"console script missing: {COOPNET_SCRIPT}"
    script = subprocess.run(
        [str(COOPNET_SCRIPT), "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert script.returncode == 0, script.stderr
    assert script.stdout.startswith("usage: coopnet")
    module = run_sub("deliveries", "--help")
    assert module.returncode == 0, module.stderr
    assert module.stdout.startswith("usage: coopnet deliveries")


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = usage_exit(capsys, "frobnicate")
    assert code == 2
    assert "usage: coopnet" in err
    assert "frobnicate" in err
    proc = run_sub("frobnicate")
    assert proc.returncode == 2
    assert "usage: coopnet" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="no-command"),
        pytest.param(["init"], id="init-bare"),
        pytest.param(
            ["init", "--data", "D", "--url", "http://127.0.0.1:8000", "--name", "x"],
            id="init-no-role",
        ),
        pytest.param(["init", "--data", "D", "--url", "http://127.0.0.1:8000"], id="init-no-name"),
        pytest.param(["serve"], id="serve-no-data"),
        pytest.param(["serve", "--data", "D", "--port", "eighty"], id="serve-port-not-int"),
        pytest.param(["post", "--data", "D"], id="post-no-text"),
        pytest.param(["post", "hello"], id="post-no-data"),
        pytest.param(["follow", "--data", "D"], id="follow-no-target"),
        pytest.param(["following"], id="following-no-data"),
        pytest.param(["followers"], id="followers-no-data"),
        pytest.param(["deliveries", "--data", "D", "--state", "lost"], id="deliveries-bad-state"),
        pytest.param(["demo", "--base-port", "x"], id="demo-port-not-int"),
    ],
)
def test_missing_or_bad_arguments_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    argv = [str(tmp_path / "d") if a == "D" else a for a in argv]
    code, _, err = usage_exit(capsys, *argv)
    assert code == 2
    assert "usage: coopnet" in err
    assert "Traceback" not in err
    assert not (tmp_path / "d").exists()


def test_missing_argument_in_a_real_process_exits_2(tmp_path: Path) -> None:
    proc = run_sub("init", "--data", str(tmp_path / "d"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: coopnet init")
    assert "Traceback" not in proc.stderr


# ----------------------------------------------------------------------------- init


def test_init_creates_a_node(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = tmp_path / "new" / "lome"
    # PostgreSQL: a database with nothing in it, as an operator creates one.
    database = dbtools.init_database_args(empty=True)
    code, out, err = run(
        capsys,
        *init_args(data, "http://127.0.0.1:8765", database=database),
        "--title",
        "Section de Lomé",
    )
    assert code == 0, err
    assert "@lome@127.0.0.1:8765" in out
    assert (data / CONFIG_NAME).is_file()
    config = load_config(data)
    if database:
        assert config.database_url == database[1]
        assert not (data / DB_NAME).exists()
    else:
        assert (data / DB_NAME).is_file()

    assert (config.url, config.name, config.role, config.title) == (
        "http://127.0.0.1:8765",
        "lome",
        "section",
        "Section de Lomé",
    )
    assert config.port == 8765

    head = migrate.head_revision()
    assert head is not None
    assert db_rows(data, "SELECT version_num FROM alembic_version") == [(head,)]

    username, type_, private_pem, public_pem = node_actor(data)
    assert (username, type_) == ("lome", "Organization")
    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.key_size == 2048
    public = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.public_numbers() == private.public_key().public_numbers()


def test_init_twice_refuses_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "lome"
    database = dbtools.init_database_args()
    code, _, err = run(capsys, *init_args(data, "http://127.0.0.1:8765", database=database))
    assert code == 0, err
    key_before = node_actor(data)[2]
    db_before = dbtools.dump(data), dbtools.file_digest(data)
    config_before = (data / CONFIG_NAME).read_text(encoding="utf-8")

    # The same directory, and on PostgreSQL the same database too.
    again = init_args(data, "https://other.example", "other", "seat", database=database)
    proc = run_sub(*again)
    assert proc.returncode != 0
    line = one_line(proc.stderr)
    assert "already initialised" in line
    assert str(data) in line

    assert node_actor(data)[2] == key_before
    assert (dbtools.dump(data), dbtools.file_digest(data)) == db_before
    assert (data / CONFIG_NAME).read_text(encoding="utf-8") == config_before


@pytest.mark.postgresql_only
def test_init_refuses_a_database_that_holds_a_node(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """PostgreSQL's side of test_f8 (a directory holding coopnet.db): ``--database`` naming
    another node's database is refused, says so, and changes nothing; the node there keeps
    its keys, and a corrected init (an empty database) works in the same directory."""
    first = tmp_path / "lome"
    assert run(capsys, *init_args(first, "http://127.0.0.1:8765"))[0] == 0
    taken = load_config(first).database_url
    before = dbtools.dump(first)
    key_before = node_actor(first)[2]

    data = tmp_path / "other"
    argv = init_args(data, "http://127.0.0.1:8766", "other", database=["--database", taken])
    code, out, err = run(capsys, *argv)
    assert code == 1, (out, err)
    line = one_line(err)
    assert line.startswith("coopnet init: error:"), line
    assert "already holds a coopnet node" in line and "@lome" in line, line
    assert "Nothing was changed" in line, line
    assert out == ""
    assert dbtools.dump(first) == before
    assert node_actor(first)[2] == key_before
    assert not (data / CONFIG_NAME).exists()
    assert not data.exists() or list(data.iterdir()) == []

    code, _, err = run(capsys, *init_args(data, "http://127.0.0.1:8766", "other"))
    assert code == 0, err
    assert load_config(data).database_url != taken


@pytest.mark.sqlite_only  # an SQLite URL given to --database
def test_init_with_the_sqlite_url_of_another_node_refuses(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--database`` is for PostgreSQL: an ``sqlite+aiosqlite:///…`` URL naming another
    node's database is refused in one line and changes nothing (it used to be written in
    the config while the node was built in DATA, so the new node ran on the other's)."""
    first = tmp_path / "lome"
    assert run(capsys, *init_args(first, "http://127.0.0.1:8765"))[0] == 0
    before = dbtools.dump(first), dbtools.file_digest(first)
    data = tmp_path / "other"
    argv = init_args(data, "http://127.0.0.1:8766", "other", database=["--database", url_of(first)])
    code, out, err = run(capsys, *argv)
    assert code == 1, (out, err)
    assert "--database is for PostgreSQL" in one_line(err)
    assert (dbtools.dump(first), dbtools.file_digest(first)) == before
    assert not (data / CONFIG_NAME).exists()


@pytest.mark.sqlite_only
def test_init_with_an_sqlite_url_is_refused_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--database sqlite+aiosqlite:///PATH`` (a new file elsewhere): refused in one line,
    nothing written in DATA or at PATH."""
    data = tmp_path / "lome"
    elsewhere = tmp_path / "disk" / "lome.db"
    elsewhere.parent.mkdir()
    argv = init_args(
        data, "http://127.0.0.1:8765", database=["--database", f"sqlite+aiosqlite:///{elsewhere}"]
    )
    code, out, err = run(capsys, *argv)
    assert code == 1, (out, err)
    assert one_line(err).startswith("coopnet init: error:")
    assert not (data / CONFIG_NAME).exists() and not elsewhere.exists()


def url_of(data: Path) -> str:
    return load_config(data).database_url


@pytest.mark.parametrize(
    ("url", "name"),
    [
        pytest.param("ftp://x", "lome", id="ftp"),
        pytest.param("http://example.com", "lome", id="plain-http-public-host"),
        pytest.param("http://10.0.0.5:8000", "lome", id="plain-http-private-not-loopback"),
        pytest.param("https://x/path", "lome", id="url-with-path"),
        pytest.param("https://x/?q=1", "lome", id="url-with-query"),
        pytest.param("lome.example", "lome", id="no-scheme"),
        pytest.param("https://x:99999", "lome", id="port-out-of-range"),
        pytest.param("http://127.0.0.1:notaport", "lome", id="port-not-a-number"),
        pytest.param("https://lome.example", "Bad Name", id="bad-name"),
        pytest.param("https://lome.example", "LOME", id="uppercase-name"),
    ],
)
def test_init_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, url: str, name: str
) -> None:
    data = tmp_path / "lome"
    database = dbtools.init_database_args()
    code, out, err = run(capsys, *init_args(data, url, name=name, database=database))
    assert code != 0
    line = one_line(err)
    assert line.startswith("coopnet init: error:")
    assert out == ""
    assert not (data / CONFIG_NAME).exists()
    # Nothing half-made (in the directory or the database) blocks a corrected init.
    code, _, err = run(capsys, *init_args(data, "http://127.0.0.1:8765", database=database))
    assert code == 0, err


def test_init_bad_role_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = tmp_path / "lome"
    code, _, err = usage_exit(capsys, *init_args(data, "https://lome.example", role="king"))
    assert code == 2
    assert "king" in err
    assert "Traceback" not in err
    assert not (data / CONFIG_NAME).exists()


def test_init_on_a_path_that_is_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = tmp_path / "lome"
    data.write_text("not a directory", encoding="utf-8")
    code, _, err = run(capsys, *init_args(data, "http://127.0.0.1:8765"))
    assert code != 0
    assert str(data) in one_line(err)
    assert data.read_text(encoding="utf-8") == "not a directory"


@pytest.mark.parametrize(
    ("url", "private"),
    [
        ("https://lome.example", False),
        ("https://lome.example:8443", False),
        ("http://127.0.0.1:8765", True),
        ("http://localhost:8765", True),
    ],
)
def test_init_sets_the_ssrf_guard(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, url: str, private: bool
) -> None:
    data = tmp_path / "lome"
    code, _, err = run(capsys, *init_args(data, url))
    assert code == 0, err
    assert load_config(data).allow_private_addresses is private


# ----------------------------------------------------------------------------- the SSRF guard


@pytest.fixture(scope="module")
def https_node_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("https-node") / "lome"
    assert main(init_args(data, "https://lome.example")) == 0
    return data


@pytest.fixture
def listener() -> Any:
    """A loopback listener: a connection attempt would be waiting in its backlog."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    yield sock
    sock.close()


def assert_never_connected(sock: socket.socket) -> None:
    try:
        conn, peer = sock.accept()
    except BlockingIOError:
        return
    conn.close()
    raise AssertionError(f"the guard let a connection through (from {peer})")


@pytest.mark.parametrize(
    ("template", "blocked"),
    [
        pytest.param("http://127.0.0.1:{port}/x", False, id="plain-http"),
        pytest.param("https://127.0.0.1:{port}/x", True, id="loopback-v4"),
        pytest.param("https://localhost:{port}/", True, id="localhost"),
        pytest.param("https://LocalHost:{port}/", True, id="localhost-mixed-case"),
        pytest.param("https://api.localhost:{port}/", True, id="sub-localhost"),
        pytest.param("https://10.0.0.1/", True, id="private-10"),
        pytest.param("https://169.254.169.254/latest/meta-data/", True, id="cloud-metadata"),
        pytest.param("https://[::1]:{port}/", True, id="loopback-v6"),
        pytest.param("https://[::ffff:127.0.0.1]:{port}/", True, id="v4-mapped-loopback"),
        pytest.param("https://2130706433:{port}/", False, id="decimal-loopback"),
        pytest.param("https://localhost.:{port}/", False, id="localhost-trailing-dot"),
    ],
)
async def test_https_node_refuses_local_addresses_before_connecting(
    https_node_dir: Path, listener: socket.socket, template: str, blocked: bool
) -> None:
    config = load_config(https_node_dir)
    assert config.allow_private_addresses is False
    url = template.format(port=listener.getsockname()[1])
    node = await Node.open(config)
    try:
        with pytest.raises(FetchError) as info:
            await asyncio.wait_for(node.client.fetch_object(url), 10)
        if blocked:
            assert isinstance(info.value, BlockedAddress), repr(info.value)
    finally:
        await node.close()
    assert_never_connected(listener)


async def test_listener_sees_a_connection_from_a_loopback_node(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, listener: socket.socket
) -> None:
    """Control for the tests above: a node with the guard off does reach the listener."""
    data = tmp_path / "lome"
    code, _, err = await arun(capsys, *init_args(data, "http://127.0.0.1:8765"))
    assert code == 0, err
    node = await Node.open(load_config(data))
    try:
        fetch = asyncio.create_task(
            node.client.fetch_object(f"http://127.0.0.1:{listener.getsockname()[1]}/x")
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        connections = 0
        # Hang up on every connection (the client may retry once) until the fetch gives up.
        while not fetch.done():
            try:
                conn, _ = listener.accept()
                conn.close()
                connections += 1
            except BlockingIOError:
                assert loop.time() < deadline, f"fetch still running ({connections} connections)"
                await asyncio.sleep(0.02)
        assert connections >= 1
        with pytest.raises(FetchError):
            await fetch
    finally:
        await node.close()


async def test_https_node_refuses_a_name_that_resolves_to_a_local_address(
    https_node_dir: Path,
) -> None:
    """The guard checks resolved addresses too (a public-looking name pointing inward)."""
    name = socket.gethostname()
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(name, None, family=socket.AF_INET)
    except OSError:
        pytest.skip(f"host name {name!r} does not resolve here")
    addresses = {info[4][0] for info in infos}
    if any(address_allowed(a) for a in addresses) or "." not in next(iter(addresses)):
        pytest.skip(f"host name {name!r} resolves to {addresses}, not only to local addresses")
    address = sorted(addresses)[0]
    sock = socket.socket()
    sock.bind((address, 0))
    sock.listen(16)
    sock.setblocking(False)
    node = await Node.open(load_config(https_node_dir))
    try:
        with pytest.raises(FetchError):
            await asyncio.wait_for(
                node.client.fetch_object(f"https://{name}:{sock.getsockname()[1]}/x"), 10
            )
        assert_never_connected(sock)
    finally:
        await node.close()
        sock.close()


async def test_guarded_resolver_drops_loopback() -> None:
    resolver = GuardedResolver()
    try:
        with pytest.raises(OSError):
            await resolver.resolve("localhost", 443)
    finally:
        await resolver.close()


async def test_https_node_does_not_deliver_to_private_inbox(https_node_dir: Path) -> None:
    node = await Node.open(load_config(https_node_dir))
    try:
        outcome = await asyncio.wait_for(
            node.client.post_activity("https://10.0.0.1/inbox", b"{}", node.signer), 10
        )
        # A public address passes the URL check (nothing is contacted here).
        node.client.check_url("https://1.1.1.1/inbox")
    finally:
        await node.close()
    assert outcome.permanent is True
    assert outcome.status is None


@pytest.mark.parametrize(
    ("ip", "allowed"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.1.1", False),
        ("172.16.0.1", False),
        ("169.254.1.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("0.0.0.0", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("1.1.1.1", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:1.1.1.1", True),
    ],
)
def test_address_allowed(ip: str, allowed: bool) -> None:
    assert address_allowed(ip) is allowed


# ----------------------------------------------------------------------------- not initialised


@pytest.mark.parametrize(
    "argv",
    [
        ["post", "--data", "D", "hello"],
        ["follow", "--data", "D", "alice@example.com"],
        ["following", "--data", "D"],
        ["followers", "--data", "D"],
        ["deliveries", "--data", "D"],
        ["serve", "--data", "D"],
    ],
    ids=lambda argv: argv[0],
)
@pytest.mark.parametrize("exists", [True, False], ids=["empty-dir", "no-dir"])
def test_commands_on_uninitialised_dir(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], exists: bool
) -> None:
    data = tmp_path / "d"
    if exists:
        data.mkdir()
    code, out, err = run(capsys, *[str(data) if a == "D" else a for a in argv])
    assert code != 0
    assert "coopnet init" in one_line(err)
    assert out == ""
    if exists:
        assert list(data.iterdir()) == []
    else:
        assert not data.exists()


def test_serve_on_uninitialised_dir_in_a_real_process(tmp_path: Path) -> None:
    proc = run_sub("serve", "--data", str(tmp_path))
    assert proc.returncode == 1
    assert "coopnet init" in one_line(proc.stderr)


@pytest.mark.sqlite_only  # the SQLite file itself; PostgreSQL: the test below
def test_commands_with_the_database_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A config whose database was moved away: a clear line, not a traceback or a new DB."""
    data = tmp_path / "lome"
    assert run(capsys, *init_args(data, "http://127.0.0.1:8765"))[0] == 0
    (data / DB_NAME).unlink()
    proc = run_sub("following", "--data", str(data))
    assert proc.returncode != 0
    one_line(proc.stderr)
    assert not (data / DB_NAME).exists() or (data / DB_NAME).stat().st_size == 0


async def pg_admin(statement: str) -> None:
    from tests import pg

    await (await pg.server()).admin(statement)


def _unusable(problem: str, command: str) -> Any:
    return pytest.param(problem, command, id=f"{problem}-{command}")


@pytest.mark.postgresql_only
@pytest.mark.parametrize(
    ("problem", "command"),
    [
        _unusable(problem, command)
        for problem in ("dropped", "server-down")
        for command in ("following", "serve", "migrate")
    ],
)
def test_commands_with_the_database_gone(tmp_path: Path, problem: str, command: str) -> None:
    """PostgreSQL's side of the test above: the configured database was dropped, or its
    server is down. A command says so in one line (no traceback) and creates nothing."""
    data = tmp_path / "lome"
    assert main(init_args(data, "http://127.0.0.1:8765")) == 0
    config = load_config(data)
    dbtools.forget(data)
    if problem == "dropped":
        name = config.database_url.rsplit("/", 1)[1]
        dbtools.blocking(pg_admin(f"DROP DATABASE {name} WITH (FORCE)"))
    else:
        config.database_url = f"postgresql+asyncpg://coopnet@127.0.0.1:{free_port()}/coopnet"
        config.save()
    proc = run_sub(command, "--data", str(data))
    assert proc.returncode == 1, proc.stderr
    assert "database" in one_line(proc.stderr), proc.stderr
    assert sorted(p.name for p in data.iterdir()) == [CONFIG_NAME]


@pytest.mark.postgresql_only
@pytest.mark.parametrize(
    "problem",
    [
        pytest.param("server-down", id="server-down"),
        pytest.param("no-such-database", id="no-such-database"),
        pytest.param("no-such-role", id="no-such-role"),
    ],
)
def test_init_with_a_database_it_cannot_use(tmp_path: Path, problem: str) -> None:
    """A typo in --database (or a server that is down): one line naming the database,
    exit 1, no config written; the same directory can then be initialised."""
    from tests import pg

    server = dbtools.blocking(pg.server())
    url = {
        "server-down": f"postgresql://{pg.USER}@127.0.0.1:{free_port()}/coopnet",
        "no-such-database": server.url("no_such_database", "postgresql"),
        "no-such-role": server.url("postgres", "postgresql").replace(f"//{pg.USER}@", "//nobody@"),
    }[problem]
    data = tmp_path / "lome"
    proc = run_sub(*init_args(data, "http://127.0.0.1:8765", database=["--database", url]))
    assert proc.returncode == 1, proc.stderr
    line = one_line(proc.stderr)
    assert line.startswith("coopnet init: error:") and "database" in line, line
    assert not (data / CONFIG_NAME).exists()
    code = main(init_args(data, "http://127.0.0.1:8765"))
    assert code == 0


# ----------------------------------------------------------------------------- migrate


def test_migrate_at_head_has_nothing_to_do(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "lome"
    assert run(capsys, *init_args(data, "http://127.0.0.1:8765"))[0] == 0
    before = dbtools.dump(data)
    code, out, err = run(capsys, "migrate", "--data", str(data))
    assert code == 0, err
    assert "nothing to do" in out and migrate.HEAD in out, out
    assert "Traceback" not in err
    assert dbtools.dump(data) == before


def test_a_schema_behind_is_refused_until_migrated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A node whose schema is one revision behind (what an upgrade of coopnet leaves):
    opening it (serve, any command) refuses and names ``coopnet migrate``; after
    ``coopnet migrate`` it opens, with its data and keys as they were."""
    from alembic import command
    from alembic.script import ScriptDirectory

    data = tmp_path / "lome"
    assert run(capsys, *init_args(data, "http://127.0.0.1:8765"))[0] == 0
    config = load_config(data)
    key = node_actor(data)[2]
    cfg = migrate.alembic_config(config.database_url)
    previous = ScriptDirectory.from_config(cfg).get_revision(migrate.HEAD).down_revision
    assert isinstance(previous, str)
    dbtools.forget(data)  # no pooled connection of the tests' under the schema change
    command.downgrade(cfg, previous)
    assert db_rows(data, "SELECT version_num FROM alembic_version") == [(previous,)]

    async def open_node() -> None:
        node = await Node.open(load_config(data))
        await node.close()

    with pytest.raises(NodeError) as info:
        asyncio.run(open_node())
    message = str(info.value)
    assert f"coopnet migrate --data {data}" in message, message
    assert previous in message and migrate.HEAD in message, message
    # What an operator sees: serve refuses in one line (it would wait for a signal if not).
    proc = run_sub("serve", "--data", str(data), "--port", str(free_port()))
    assert proc.returncode == 1, proc.stderr
    assert "coopnet migrate" in one_line(proc.stderr)
    code, out, err = run(capsys, "following", "--data", str(data))
    assert code == 1 and "coopnet migrate" in one_line(err), err

    code, out, err = run(capsys, "migrate", "--data", str(data))
    assert code == 0, err
    assert out.strip() == f"migrated the schema from {previous} to {migrate.HEAD}", out
    assert db_rows(data, "SELECT version_num FROM alembic_version") == [(migrate.HEAD,)]
    asyncio.run(open_node())
    assert node_actor(data)[2] == key
    code, out, err = run(capsys, "migrate", "--data", str(data))
    assert code == 0 and "nothing to do" in out, (out, err)


# ----------------------------------------------------------------------------- post & deliveries

FOLLOWERS = [
    {
        "id": "https://a.example/users/ann",
        "type": "Person",
        "preferredUsername": "ann",
        "inbox": "https://a.example/users/ann/inbox",
        "endpoints": {"sharedInbox": "https://a.example/inbox"},
    },
    {
        "id": "https://a.example/users/bob",
        "type": "Person",
        "preferredUsername": "bob",
        "inbox": "https://a.example/users/bob/inbox",
        "endpoints": {"sharedInbox": "https://a.example/inbox"},
    },
    {
        "id": "https://b.example/users/cat",
        "type": "Person",
        "preferredUsername": "cat",
        "inbox": "https://b.example/users/cat/inbox",
    },
]
FOLLOWER_INBOXES = {"https://a.example/inbox", "https://b.example/users/cat/inbox"}


async def add_followers(config: Config, docs: Sequence[dict[str, Any]]) -> None:
    engine = make_engine(config.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            actor = await get_node_actor(session)
            for doc in docs:
                remote = await upsert_remote_actor(session, dict(doc))
                await add_follower(session, actor.id, remote, f"{doc['id']}#follows/1")
    finally:
        await engine.dispose()


@pytest.fixture
def node_with_followers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    """An initialised node (not running) with three followers on two servers."""
    data = tmp_path / "lome"
    code, _, err = run(capsys, *init_args(data, f"http://127.0.0.1:{free_port()}"))
    assert code == 0, err
    asyncio.run(add_followers(load_config(data), FOLLOWERS))
    return data


def test_post_queues_one_delivery_per_follower_inbox(
    capsys: pytest.CaptureFixture[str], node_with_followers: Path
) -> None:
    data = node_with_followers
    url = load_config(data).url
    code, out, err = run(capsys, "post", "--data", str(data), "Bulletin du mois")
    assert code == 0, err
    note_url = out.strip()
    assert len(out.splitlines()) == 1
    assert note_url.startswith(f"{url}/")

    assert db_rows(data, "SELECT uri, type FROM local_objects") == [(note_url, "Note")]
    activities = db_rows(data, "SELECT id, type, object_uri FROM activities")
    assert [(t, o) for _, t, o in activities] == [("Create", note_url)]
    deliveries = db_rows(data, "SELECT activity_id, inbox, state FROM deliveries")
    assert {inbox for _, inbox, _ in deliveries} == FOLLOWER_INBOXES
    assert len(deliveries) == len(FOLLOWER_INBOXES)
    assert {(a, s) for a, _, s in deliveries} == {(activities[0][0], "pending")}


def test_post_without_followers_still_publishes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "lome"
    assert run(capsys, *init_args(data, "http://127.0.0.1:8765"))[0] == 0
    code, out, err = run(capsys, "post", "--data", str(data), "Personne ne me lit")
    assert code == 0, err
    assert db_rows(data, "SELECT uri FROM local_objects") == [(out.strip(),)]
    assert db_rows(data, "SELECT count(*) FROM deliveries") == [(0,)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param("   \n\t ", "empty", id="whitespace"),
        pytest.param("x" * 5001, "5000", id="5001-chars"),
    ],
)
def test_post_refuses_bad_text(
    capsys: pytest.CaptureFixture[str], node_with_followers: Path, text: str, expected: str
) -> None:
    data = node_with_followers
    code, out, err = run(capsys, "post", "--data", str(data), text)
    assert code != 0
    line = one_line(err)
    assert line.startswith("coopnet post: error:")
    assert expected in line
    assert out == ""
    assert db_rows(data, "SELECT count(*) FROM local_objects") == [(0,)]
    assert db_rows(data, "SELECT count(*) FROM activities") == [(0,)]
    assert db_rows(data, "SELECT count(*) FROM deliveries") == [(0,)]


def test_post_accepts_exactly_5000_chars(
    capsys: pytest.CaptureFixture[str], node_with_followers: Path
) -> None:
    code, _, err = run(capsys, "post", "--data", str(node_with_followers), "y" * 5000)
    assert code == 0, err
    assert db_rows(node_with_followers, "SELECT count(*) FROM deliveries") == [(2,)]


def test_deliveries_lists_filters_and_retries_dead(
    capsys: pytest.CaptureFixture[str], node_with_followers: Path
) -> None:
    data = str(node_with_followers)
    assert run(capsys, "post", "--data", data, "Bulletin")[0] == 0

    code, out, err = run(capsys, "deliveries", "--data", data)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["pending:", "2", "delivered:", "0", "dead:", "0"]
    assert len(lines) == 3
    assert {line.split()[-1] for line in lines[1:]} == FOLLOWER_INBOXES
    assert all(line.split()[:2] == ["pending", "Create"] for line in lines[1:])

    changed = dbtools.execute(
        node_with_followers,
        "UPDATE deliveries SET state = 'dead' WHERE inbox = ?",
        "https://a.example/inbox",
    )
    assert changed == 1

    code, out, _ = run(capsys, "deliveries", "--data", data, "--state", "dead")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["pending:", "1", "delivered:", "0", "dead:", "1"]
    assert [line.split()[-1] for line in lines[1:]] == ["https://a.example/inbox"]

    code, out, _ = run(capsys, "deliveries", "--data", data, "--retry-dead")
    assert code == 0
    assert out.splitlines()[0] == "1 dead deliveries queued again"
    assert db_rows(node_with_followers, "SELECT DISTINCT state FROM deliveries") == [("pending",)]


# ----------------------------------------------------------------------------- follow


def test_follow_unreachable_account_fails_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "lome"
    assert run(capsys, *init_args(data, "http://127.0.0.1:8765"))[0] == 0
    proc = run_sub("follow", "--data", str(data), "nobody@127.0.0.1:1")
    assert proc.returncode != 0
    line = one_line(proc.stderr)
    assert "nobody@127.0.0.1:1" in line
    assert proc.stdout == ""
    assert db_rows(data, "SELECT count(*) FROM following") == [(0,)]
    assert db_rows(data, "SELECT count(*) FROM deliveries") == [(0,)]


@pytest.mark.parametrize("target", ["not-an-account", "@", "ftp://127.0.0.1:1/users/x"])
def test_follow_refuses_what_is_not_an_account(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, target: str
) -> None:
    data = tmp_path / "lome"
    assert run(capsys, *init_args(data, "http://127.0.0.1:8765"))[0] == 0
    code, out, err = run(capsys, "follow", "--data", str(data), target)
    assert code != 0
    assert one_line(err).startswith("coopnet follow: error:")
    assert out == ""
    assert db_rows(data, "SELECT count(*) FROM following") == [(0,)]


async def following_lines(capsys: pytest.CaptureFixture[str], data: Path) -> list[list[str]]:
    code, out, err = await arun(capsys, "following", "--data", str(data))
    assert code == 0, err
    return [line.split() for line in out.splitlines()]


async def test_follow_a_mastodon_peer_pending_then_accepted(
    capsys: pytest.CaptureFixture[str], make_node: MakeNode
) -> None:
    rn = await make_node("lome", "section", run_workers=False)
    data = rn.config.data_dir
    async with MastodonLikePeer() as peer:
        code, out, err = await arun(capsys, "follow", "--data", str(data), peer.acct())
        assert code == 0, err
        assert out.split()[:2] == ["pending:", peer.acct()]
        assert peer.actor_id() in out

        lines = await following_lines(capsys, data)
        assert len(lines) == 1
        assert lines[0][:3] == ["pending", peer.acct(), peer.actor_id()]

        # Step the node's workers: the Follow goes out, the peer's Accept comes back.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while lines[0][0] != "accepted":
            assert loop.time() < deadline, f"never accepted: {lines}\n{peer.describe()}"
            await DeliveryWorker(rn.node).run_once()
            await InboxWorker(rn.node).run_once()
            lines = await following_lines(capsys, data)
            await asyncio.sleep(0.05)
        assert peer.followers["alice"] == {rn.actor_id}
        assert len(lines) == 1


async def test_follow_then_accepted_with_running_workers(
    capsys: pytest.CaptureFixture[str], make_node: MakeNode
) -> None:
    rn = await make_node("lome", "section")
    from node.actions import follow

    async with MastodonLikePeer() as peer:
        await follow(rn.node, peer.acct(), by=OPERATOR)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while True:
            lines = await following_lines(capsys, rn.config.data_dir)
            if lines and lines[0][0] == "accepted":
                break
            assert loop.time() < deadline, f"never accepted: {lines}\n{peer.describe()}"
            await asyncio.sleep(0.05)
        assert lines[0][1:3] == [peer.acct(), peer.actor_id()]


async def test_follow_self_is_refused(
    capsys: pytest.CaptureFixture[str], make_node: MakeNode
) -> None:
    rn = await make_node("lome", "section")
    code, _, err = await arun(capsys, "follow", "--data", str(rn.config.data_dir), rn.acct)
    assert code != 0
    assert "itself" in one_line(err)
    assert await following_lines(capsys, rn.config.data_dir) == []


async def test_followers_lists_a_peer_that_follows(
    capsys: pytest.CaptureFixture[str], make_node: MakeNode
) -> None:
    rn = await make_node("lome", "section")
    data = str(rn.config.data_dir)
    code, out, err = await arun(capsys, "followers", "--data", data)
    assert code == 0
    assert out == ""
    assert "no followers yet" in err
    async with MastodonLikePeer() as peer:
        await peer.follow(rn.acct)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while True:
            code, out, err = await arun(capsys, "followers", "--data", data)
            assert code == 0, err
            if out:
                break
            assert loop.time() < deadline, f"no follower listed\n{peer.describe()}"
            await asyncio.sleep(0.05)
        lines = [line.split() for line in out.splitlines()]
        assert len(lines) == 1
        assert lines[0][:3] == ["accepted", peer.acct(), peer.actor_id()]


# ----------------------------------------------------------------------------- serve


class Served:
    """``coopnet serve`` in a real process, its stderr collected as it comes."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self._log = bytearray()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(65536):
            self._log += chunk

    @property
    def log(self) -> str:
        return self._log.decode(errors="replace")

    async def wait(self, timeout: float = 15) -> int:  # noqa: ASYNC109
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        await asyncio.wait_for(self._reader, timeout)
        return code

    async def ready(self, actor_url: str, timeout: float = 15) -> dict[str, Any]:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            while True:
                if self.proc.returncode is not None:
                    raise AssertionError(
                        f"serve exited early ({self.proc.returncode}):\n{self.log}"
                    )
                try:
                    async with http.get(actor_url, headers={"Accept": AP}) as resp:
                        if resp.status == 200:
                            doc: dict[str, Any] = await resp.json(content_type=None)
                            return doc
                except aiohttp.ClientError:
                    pass
                assert loop.time() < deadline, f"serve never answered:\n{self.log}"
                await asyncio.sleep(0.05)


@asynccontextmanager
async def serving(*args: str) -> AsyncIterator[Served]:
    proc = await asyncio.create_subprocess_exec(
        *cli_argv("serve", *args),
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    served = Served(proc)
    try:
        yield served
    finally:
        if proc.returncode is None:
            proc.kill()
        await served.wait()


async def init_loopback(capsys: pytest.CaptureFixture[str], data: Path, port: int) -> str:
    code, _, err = await arun(capsys, *init_args(data, f"http://127.0.0.1:{port}"))
    assert code == 0, err
    return f"http://127.0.0.1:{port}/users/lome"


async def test_serve_delivers_a_post_made_by_another_process(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    port = free_port()
    data = tmp_path / "lome"
    actor_url = await init_loopback(capsys, data, port)
    async with serving("--data", str(data)) as served, MastodonLikePeer() as peer:
        doc = await served.ready(actor_url)
        assert doc["id"] == actor_url
        await peer.follow(f"lome@127.0.0.1:{port}")
        await peer.wait_until(
            lambda: peer.following["alice"].get(actor_url) == "accepted",
            timeout=10,
            what="Accept from the served node",
        )

        code, out, err = await run_sub_async("post", "--data", str(data), "Bulletin du mois")
        assert code == 0, err
        note_url = out.strip()
        got = await peer.wait_for(
            lambda r: (
                r.type == "Create" and isinstance(r.object, dict) and r.object.get("id") == note_url
            ),
            timeout=10,
        )
        assert got.actor == actor_url

        served.proc.send_signal(signal.SIGTERM)
        assert await served.wait(15) == 0, served.log
    assert "shutting down" in served.log
    assert "Traceback" not in served.log
    assert db_rows(data, "SELECT DISTINCT state FROM deliveries") == [("delivered",)]


async def test_serve_answers_and_stops_on_sigint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    port = free_port()
    data = tmp_path / "lome"
    actor_url = await init_loopback(capsys, data, port)
    async with serving("--data", str(data), "--host", "127.0.0.1") as served:
        doc = await served.ready(actor_url)
        assert doc["id"] == actor_url
        assert doc["type"] == "Organization"
        served.proc.send_signal(signal.SIGINT)
        assert await served.wait(15) == 0, served.log
    assert "shutting down" in served.log
    assert "Traceback" not in served.log


async def test_serve_on_a_port_in_use(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = tmp_path / "lome"
    await init_loopback(capsys, data, free_port())
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        # --port overrides the configured port; that one is taken.
        code, _, err = await run_sub_async(
            "serve", "--data", str(data), "--host", "127.0.0.1", "--port", str(port)
        )
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if str(port) in line]
    assert lines, err
    assert any(line.startswith("coopnet serve: error:") for line in lines), err


# ----------------------------------------------------------------------------- demo


@pytest.mark.sqlite_only  # `coopnet demo` always makes SQLite nodes (it has no --database)
async def test_demo_check(tmp_path: Path) -> None:
    base = free_port_run(3)
    code, out, err = await run_sub_async(
        "demo", "--dir", str(tmp_path / "demo"), "--base-port", str(base), "--check", within=60
    )
    assert code == 0, f"{out}\n{err}"
    assert "demo check passed" in out
    assert "Traceback" not in err
    for name in ("siege", "lome", "marseille"):
        assert (tmp_path / "demo" / name / CONFIG_NAME).is_file()
