"""A node's configuration: one TOML file in its data directory.

``coopnet init`` writes it with every setting spelled out and commented,
so a self-hoster can read and change it without the docs. Loading checks
every value and fails with the file, the key and what was expected.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CONFIG_NAME = "coopnet.toml"
DB_NAME = "coopnet.db"
ROLES = ("section", "seat")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class ConfigError(Exception):
    """A configuration problem a person must fix; the message says how."""


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    parts = urlsplit(url)
    try:
        _ = parts.port  # raises for a port out of range or not a number
    except ValueError as exc:
        raise ConfigError(f"{url!r}: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"--url must look like https://host or http://127.0.0.1:PORT, not {url!r}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"--url must be the site root, without a path: {url!r}")
    if parts.scheme == "http" and not is_loopback_url(url):
        raise ConfigError(
            f"{url!r}: plain http is only for local use on a loopback address; "
            "use https behind a reverse proxy (see deploy/)"
        )
    return f"{parts.scheme}://{parts.netloc}"


def database_url(value: str) -> str:
    """A PostgreSQL URL as coopnet uses it (the asyncpg driver), or ConfigError.

    Accepts what people write (``postgresql://user:pw@host/db``,
    ``postgres://…``) and SQLAlchemy's own ``postgresql+asyncpg://…``; an
    ``sqlite+aiosqlite:///path`` URL is kept as it is.
    """
    value = value.strip()
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if value.startswith(prefix):
            rest = value[len(prefix) :]
            host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
            if "/" not in rest or not rest.split("/", 1)[1] or not host:
                raise ConfigError(
                    f"database URL {value!r}: write postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME"
                )
            return "postgresql+asyncpg://" + rest
    if value.startswith("sqlite+aiosqlite:///") and len(value) > len("sqlite+aiosqlite:///"):
        return value
    raise ConfigError(
        f"database URL {value!r}: coopnet uses SQLite (the default) or PostgreSQL "
        "(postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME)"
    )


def _postgresql_only(value: str) -> str:
    url = database_url(value)
    if not url.startswith("postgresql"):
        raise ConfigError(
            "--database is for PostgreSQL; without it the node's SQLite database lives in "
            "its data directory"
        )
    return url


def toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are not enough (TOML forbids a raw DEL)."""
    out = []
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


@dataclass
class Config:
    data_dir: Path
    url: str
    name: str
    role: str
    title: str
    #: The time zone people enter and read times in on pages (an IANA name);
    #: the node stores and federates UTC.
    timezone: str = "UTC"
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = ""
    #: Allow fetching from and delivering to private and loopback addresses.
    #: On by default only for a loopback node; the SSRF guard otherwise.
    allow_private_addresses: bool = False
    #: Reverse proxies whose X-Forwarded-* headers are believed.
    trusted_proxies: list[str] = field(default_factory=list)
    #: A client must send its complete request headers within this many
    #: seconds of connecting (or of its previous response): slow senders
    #: cannot hold connections open.
    header_timeout_seconds: float = 20.0
    #: An inbox POST's body must arrive within this many seconds (408 after).
    body_timeout_seconds: float = 30.0
    signature_window_seconds: int = 3600
    max_body_bytes: int = 1024 * 1024
    delivery_concurrency: int = 32
    delivery_max_age_hours: float = 72.0
    delivery_poll_seconds: float = 0.5
    #: How long a claimed delivery is reserved for the worker sending it; a
    #: worker killed mid-send releases its rows when this expires. Longer
    #: than the HTTP timeout, or a slow answer could be sent twice.
    delivery_lease_seconds: float = 120.0
    http_timeout_seconds: float = 10.0
    log_level: str = "INFO"
    #: The network's seat (actor URL): the only issuer of authorisations this
    #: section accepts, and the trust anchor of 'coopnet verify'.
    network_seat: str = ""
    #: Default limits of a new SEL member account, in minutes (−20 h / +20 h).
    sel_lower_minutes: int = -1200
    sel_upper_minutes: int = 1200
    #: An exchange offered by a peer section waits for the paid member's confirmation.
    sel_confirm_incoming: bool = False
    #: An SMTP server for password links; empty: no mail, links are handed over by hand.
    mail_host: str = ""
    mail_port: int = 587
    #: "starttls" (port 587), "tls" (port 465) or "none" (a relay on this machine only).
    mail_security: str = "starttls"
    mail_username: str = ""
    mail_password: str = ""
    #: The From: address, e.g. "Section de Lomé <noreply@lome.example>".
    mail_from: str = ""

    def __post_init__(self) -> None:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / DB_NAME}"

    @property
    def allows_http(self) -> bool:
        return self.url.startswith("http://")

    @classmethod
    def new(
        cls,
        data_dir: Path,
        url: str,
        name: str,
        role: str,
        title: str | None = None,
        *,
        database: str | None = None,
    ) -> Config:
        url = check_base_url(url)
        if not SLUG.match(name):
            raise ConfigError(
                f"--name {name!r}: use lowercase letters, digits, '-' or '_' "
                f"(it becomes @{name}@host)"
            )
        if role not in ROLES:
            raise ConfigError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
        loopback = is_loopback_url(url)
        port = urlsplit(url).port or 8080
        return cls(
            data_dir=data_dir,
            url=url,
            name=name,
            role=role,
            title=title or name.capitalize(),
            port=port,
            allow_private_addresses=loopback,
            database_url=_postgresql_only(database) if database else "",
        )

    def to_toml(self) -> str:
        def q(value: Any) -> str:
            if isinstance(value, list):
                return "[" + ", ".join(q(v) for v in value) + "]"
            return toml_string(str(value))

        default_db = f"sqlite+aiosqlite:///{self.data_dir / DB_NAME}"
        db_line = (
            '# url = "postgresql+asyncpg://coopnet@localhost/coopnet"  (default: SQLite here)'
            if self.database_url == default_db
            else f"url = {q(self.database_url)}"
        )
        return f"""# coopnet node configuration. Restart 'coopnet serve' after editing.

[node]
# Public base URL: the identity of every actor of this node. Do not change it
# once other servers know the node.
url = {q(self.url)}
# The node actor's username: @{self.name}@host.
name = {q(self.name)}
# "section" or "seat".
role = {q(self.role)}
title = {q(self.title)}
# The time zone of times people enter and read (poll closing times), an IANA
# name such as "Africa/Lome" or "Europe/Paris". The node keeps UTC.
timezone = {q(self.timezone)}

[server]
# Where 'coopnet serve' listens (put a TLS reverse proxy in front: deploy/).
host = {q(self.host)}
port = {self.port}
# Seconds a client has to send its request headers, then its body; the
# reverse proxy in front should be as strict (deploy/nginx.conf, Caddyfile).
header_timeout_seconds = {self.header_timeout_seconds}
body_timeout_seconds = {self.body_timeout_seconds}
# Proxies whose X-Forwarded-For/-Proto headers are trusted, e.g. ["127.0.0.1"].
trusted_proxies = {q(self.trusted_proxies)}
log_level = {q(self.log_level)}

[database]
{db_line}

[federation]
# Allow fetches and deliveries to private/loopback addresses (SSRF guard off).
allow_private_addresses = {str(self.allow_private_addresses).lower()}
# Accepted clock skew of signed requests, in seconds.
signature_window_seconds = {self.signature_window_seconds}
# Largest inbox body accepted, in bytes (Mastodon: 1 MiB).
max_body_bytes = {self.max_body_bytes}
http_timeout_seconds = {self.http_timeout_seconds}

[network]
# Actor URL of the network's seat, e.g. "https://siege.example/users/siege":
# the only actor whose authorisation this section accepts, and the trust
# anchor of 'coopnet verify'. Empty: no authorisation can be checked and
# 'coopnet verify' refuses (a seat node is its own anchor).
seat = {q(self.network_seat)}

[sel]
# Default limits of new member accounts, in minutes (shown as hours).
lower_limit_minutes = {self.sel_lower_minutes}
upper_limit_minutes = {self.sel_upper_minutes}
# true: an exchange a member of a peer section records with one of ours waits
# until our member confirms it (on their page); false: decided at once.
confirm_incoming = {str(self.sel_confirm_incoming).lower()}

[mail]
# Optional: an SMTP server through which invitation and password links are
# mailed to accounts that have an address. Empty host: no mail is sent and the
# coordinator hands the links over themselves (the node needs no mail server).
host = {q(self.mail_host)}
port = {self.mail_port}
# "starttls" (usually port 587), "tls" (port 465) or "none" (local relay only).
security = {q(self.mail_security)}
username = {q(self.mail_username)}
password = {q(self.mail_password)}
# e.g. "Section de Lomé <noreply@lome.example>"
from = {q(self.mail_from)}

[delivery]
# Deliveries in flight at once.
concurrency = {self.delivery_concurrency}
# Give up on a delivery after this many hours of failures.
max_age_hours = {self.delivery_max_age_hours}
poll_seconds = {self.delivery_poll_seconds}
# Seconds a claimed delivery stays reserved for its worker (a killed worker's
# rows are sent by another after this); keep it above http_timeout_seconds.
lease_seconds = {self.delivery_lease_seconds}
"""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def save(self) -> Path:
        path = self.data_dir / CONFIG_NAME
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(self.to_toml())
        tmp.replace(path)
        return path


_SCHEMA: dict[str, dict[str, tuple[str, type | tuple[type, ...]]]] = {
    "node": {
        "url": ("url", str),
        "name": ("name", str),
        "role": ("role", str),
        "title": ("title", str),
        "timezone": ("timezone", str),
    },
    "server": {
        "host": ("host", str),
        "port": ("port", int),
        "trusted_proxies": ("trusted_proxies", list),
        "header_timeout_seconds": ("header_timeout_seconds", (int, float)),
        "body_timeout_seconds": ("body_timeout_seconds", (int, float)),
        "log_level": ("log_level", str),
    },
    "database": {"url": ("database_url", str)},
    "federation": {
        "allow_private_addresses": ("allow_private_addresses", bool),
        "signature_window_seconds": ("signature_window_seconds", int),
        "max_body_bytes": ("max_body_bytes", int),
        "http_timeout_seconds": ("http_timeout_seconds", (int, float)),
    },
    "network": {"seat": ("network_seat", str)},
    "sel": {
        "lower_limit_minutes": ("sel_lower_minutes", int),
        "upper_limit_minutes": ("sel_upper_minutes", int),
        "confirm_incoming": ("sel_confirm_incoming", bool),
    },
    "mail": {
        "host": ("mail_host", str),
        "port": ("mail_port", int),
        "security": ("mail_security", str),
        "username": ("mail_username", str),
        "password": ("mail_password", str),
        "from": ("mail_from", str),
    },
    "delivery": {
        "concurrency": ("delivery_concurrency", int),
        "max_age_hours": ("delivery_max_age_hours", (int, float)),
        "poll_seconds": ("delivery_poll_seconds", (int, float)),
        "lease_seconds": ("delivery_lease_seconds", (int, float)),
    },
}


def load_config(data_dir: Path) -> Config:
    path = data_dir / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(
            f"{data_dir} is not a coopnet data directory (no {CONFIG_NAME}); "
            f"create one with: coopnet init --data {data_dir} --url URL --name NAME --role section"
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    values: dict[str, Any] = {}
    for section, body in raw.items():
        keys = _SCHEMA.get(section)
        if keys is None or not isinstance(body, dict):
            raise ConfigError(f"{path}: unknown section [{section}]")
        for key, value in body.items():
            if key not in keys:
                raise ConfigError(f"{path}: unknown setting {section}.{key}")
            attr, expected = keys[key]
            if isinstance(value, bool) and expected is not bool:
                raise ConfigError(
                    f"{path}: {section}.{key} must be a number or text, not a boolean"
                )
            if not isinstance(value, expected):
                raise ConfigError(
                    f"{path}: {section}.{key} has the wrong type ({type(value).__name__})"
                )
            values[attr] = value
    for required in ("url", "name", "role"):
        if required not in values:
            raise ConfigError(f"{path}: node.{required} is missing")
    try:
        values["url"] = check_base_url(values["url"])
    except ConfigError as exc:
        raise ConfigError(f"{path}: node.url: {exc}") from exc
    if values["role"] not in ROLES:
        raise ConfigError(f"{path}: node.role must be one of {', '.join(ROLES)}")
    values.setdefault("title", values["name"])
    if "timezone" in values:
        values["timezone"] = check_timezone(values["timezone"], path)
    if "database_url" in values:
        try:
            values["database_url"] = database_url(values["database_url"])
        except ConfigError as exc:
            raise ConfigError(f"{path}: database.url: {exc}") from exc
    port = values.get("port", 8080)
    if not 0 <= port <= 65535:
        raise ConfigError(f"{path}: server.port {port} is not a TCP port")
    for key in (
        "header_timeout_seconds",
        "body_timeout_seconds",
        "http_timeout_seconds",
        "delivery_lease_seconds",
    ):
        if key in values and not values[key] > 0:
            raise ConfigError(f"{path}: {key} must be a number of seconds above 0")
    if values.get("delivery_lease_seconds", 120.0) <= values.get("http_timeout_seconds", 10.0):
        raise ConfigError(
            f"{path}: delivery.lease_seconds must be longer than federation.http_timeout_seconds"
        )
    _check_mail(path, values)
    return Config(data_dir=data_dir, **values)


def check_timezone(name: str, path: Path | None = None) -> str:
    """An IANA time zone name this machine knows ('Africa/Lome'), or ConfigError."""
    where = f"{path}: node.timezone" if path else "timezone"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where}: {name[:60]!r} is not a time zone this machine knows; "
            'write an IANA name such as "Africa/Lome" or "Europe/Paris"'
        ) from None
    return name


MAIL_SECURITY = ("starttls", "tls", "none")


def _check_mail(path: Path, values: dict[str, Any]) -> None:
    if values.get("mail_security", "starttls") not in MAIL_SECURITY:
        raise ConfigError(f"{path}: mail.security must be one of {', '.join(MAIL_SECURITY)}")
    if not 0 < values.get("mail_port", 587) <= 65535:
        raise ConfigError(f"{path}: mail.port {values['mail_port']} is not a TCP port")
    if values.get("mail_host") and not values.get("mail_from"):
        raise ConfigError(
            f"{path}: mail.host is set but mail.from is empty: give the sender address, "
            'e.g. from = "Section <noreply@section.example>"'
        )
    if any(CONTROL_CHARS.search(values.get(k, "")) for k in ("mail_host", "mail_from")):
        raise ConfigError(f"{path}: mail.host and mail.from cannot hold control characters")
