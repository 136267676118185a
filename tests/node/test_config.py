"""The node configuration file: what ``load_config`` refuses and what survives a round trip.

Every refusal must name the file and the offending key, so that a self-hoster
who edited ``coopnet.toml`` by hand knows where to look.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from node.config import CONFIG_NAME, Config, ConfigError, load_config

URL = "http://127.0.0.1:8123"


def write_valid(data: Path) -> Path:
    """A config exactly as ``coopnet init`` would write it; returns the file path."""
    return Config.new(data, URL, "lome", "section", "Section de Lomé").save()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not exactly once in:\n{text}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_written_config_loads(tmp_path: Path) -> None:
    path = write_valid(tmp_path)
    assert path == tmp_path / CONFIG_NAME
    config = load_config(tmp_path)
    assert (config.url, config.name, config.role, config.title) == (
        URL,
        "lome",
        "section",
        "Section de Lomé",
    )
    assert config.port == 8123
    assert config.allow_private_addresses is True
    assert config.database_url == f"sqlite+aiosqlite:///{tmp_path / 'coopnet.db'}"


def test_missing_file_names_the_directory_and_the_file(tmp_path: Path) -> None:
    data = tmp_path / "nowhere"
    with pytest.raises(ConfigError) as info:
        load_config(data)
    message = str(info.value)
    assert str(data) in message
    assert CONFIG_NAME in message
    assert "coopnet init" in message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write_valid(tmp_path)
    path.write_text('[node\nurl = "http://127.0.0.1:8123"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert str(path) in str(info.value)
    assert "TOML" in str(info.value)


def test_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = write_valid(tmp_path)
    path.write_bytes(path.read_bytes().replace("Lomé".encode(), "Lomé".encode("latin-1")))
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert str(path) in str(info.value)


# (old text, new text, what the message must name)
BAD_EDITS = [
    pytest.param("[delivery]", "[bogus]\nx = 1\n\n[delivery]", "bogus", id="unknown-section"),
    pytest.param(
        'log_level = "INFO"',
        'log_level = "INFO"\ncolour = "red"',
        "server.colour",
        id="unknown-key",
    ),
    pytest.param("port = 8123", 'port = "8123"', "server.port", id="port-as-string"),
    pytest.param("port = 8123", "port = true", "server.port", id="port-as-boolean"),
    pytest.param("port = 8123", "port = 70000", "server.port", id="port-out-of-range"),
    pytest.param(
        "concurrency = 32", "concurrency = false", "delivery.concurrency", id="bool-count"
    ),
    pytest.param(
        "allow_private_addresses = true",
        'allow_private_addresses = "yes"',
        "federation.allow_private_addresses",
        id="string-for-boolean",
    ),
    pytest.param('role = "section"', 'role = "king"', "node.role", id="role-king"),
    pytest.param(f'url = "{URL}"', "", "node.url", id="url-missing"),
    pytest.param(f'url = "{URL}"', f'url = "{URL}/path"', "node.url", id="url-with-path"),
    pytest.param(f'url = "{URL}"', 'url = "ftp://127.0.0.1"', "node.url", id="url-ftp"),
    pytest.param(f'url = "{URL}"', 'url = "http://127.0.0.1:99999"', "node.url", id="url-bad-port"),
    pytest.param('timezone = "UTC"', 'timezone = "Mars/Olympus"', "node.timezone", id="tz-unknown"),
    pytest.param(
        'timezone = "UTC"', 'timezone = "../../etc/passwd"', "node.timezone", id="tz-path"
    ),
    pytest.param('timezone = "UTC"', 'timezone = ""', "node.timezone", id="tz-empty"),
    pytest.param('timezone = "UTC"', "timezone = 1", "node.timezone", id="tz-number"),
]


@pytest.mark.parametrize(("old", "new", "key"), BAD_EDITS)
def test_bad_setting_names_file_and_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    path = write_valid(tmp_path)
    edit(path, old, new)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    message = str(info.value)
    assert str(path) in message, message
    assert key in message, message


def test_round_trip_keeps_every_value(tmp_path: Path) -> None:
    config = Config.new(tmp_path, "https://lome.example/", "lome", "seat", "Siège")
    assert config.url == "https://lome.example"
    config.host = "0.0.0.0"
    config.port = 9000
    config.trusted_proxies = ["127.0.0.1", "::1"]
    config.log_level = "DEBUG"
    config.database_url = "sqlite+aiosqlite:////srv/coopnet/other.db"
    config.allow_private_addresses = True
    config.signature_window_seconds = 600
    config.max_body_bytes = 2048
    config.http_timeout_seconds = 3.5
    config.delivery_concurrency = 4
    config.delivery_max_age_hours = 1.5
    config.delivery_poll_seconds = 0.25
    config.timezone = "Africa/Lome"
    config.save()
    assert load_config(tmp_path) == config


def test_round_trip_of_new_defaults(tmp_path: Path) -> None:
    config = Config.new(tmp_path, "https://lome.example", "lome", "section")
    config.save()
    loaded = load_config(tmp_path)
    assert loaded == config
    assert loaded.title == "Lome"
    assert loaded.allow_private_addresses is False
    assert loaded.database_url == f"sqlite+aiosqlite:///{tmp_path / 'coopnet.db'}"


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("Section de Lomé 🌍", id="unicode"),
        pytest.param('Quote " and \\ backslash', id="quote-backslash"),
        pytest.param("Tab\tand\nnewline", id="tab-newline"),
        pytest.param("DEL\x7fchar", id="del-control-char"),
        pytest.param("Bell\x07char", id="bell-control-char"),
    ],
)
def test_title_round_trips(tmp_path: Path, title: str) -> None:
    """Whatever --title was accepted must be written so that the node can start again."""
    Config.new(tmp_path, URL, "lome", "section", title).save()
    assert load_config(tmp_path).title == title


def test_edited_delivery_concurrency_is_read_back(tmp_path: Path) -> None:
    path = write_valid(tmp_path)
    assert load_config(tmp_path).delivery_concurrency == 32
    edit(path, "concurrency = 32", "concurrency = 8")
    assert load_config(tmp_path).delivery_concurrency == 8


@pytest.mark.parametrize(
    ("url", "private", "port"),
    [
        ("https://lome.example", False, 8080),
        ("http://127.0.0.1:8123", True, 8123),
        ("http://localhost:8124", True, 8124),
    ],
)
def test_new_sets_the_ssrf_guard_from_the_url(
    tmp_path: Path, url: str, private: bool, port: int
) -> None:
    config = Config.new(tmp_path, url, "lome", "section")
    assert config.allow_private_addresses is private
    assert config.port == port


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x",
        "http://example.com",
        "https://x/path",
        "https://x?q=1",
        "lome.example",
        "https://x:99999",
        "http://127.0.0.1:notaport",
    ],
)
def test_new_refuses_bad_urls_with_config_error(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError):
        Config.new(tmp_path, url, "lome", "section")


@pytest.mark.parametrize("name", ["Bad Name", "Lome", "", "-lome", "a" * 64, "lomé"])
def test_new_refuses_bad_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError):
        Config.new(tmp_path, URL, name, "section")


def test_new_refuses_unknown_role(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        Config.new(tmp_path, URL, "lome", "king")
