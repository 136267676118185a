"""Password links mailed through a real SMTP server on loopback (aiosmtpd).

The node needs no mail server: without ``[mail]`` nothing is sent and the
link is shown as before. With one, an account with an address gets its
invitation and its reset links by mail too, in its language; a server
that cannot be reached leaves the link valid and says why, on the page
and from the CLI (exit status 1).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from models.accounts import OPERATOR
from node import sel, users
from node.config import CONFIG_NAME, ConfigError, load_config
from node.mail import configured
from tests.conftest import MakeNode, RunningNode
from tests.procs import coopnet, free_port
from tests.web.test_mediator_pages import (
    csrf_of,
    log_in_with_link,
    new_browser,
    page,
    post,
    text_of,
)


@dataclass
class Mailbox:
    """What the SMTP server received: (envelope recipients, parsed message)."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.content
        assert isinstance(data, bytes)
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    await asyncio.to_thread(controller.start)
    try:
        yield SmtpServer(controller.port, mailbox)
    finally:
        await asyncio.to_thread(controller.stop)


def mail_settings(port: int) -> dict[str, Any]:
    return {
        "mail_host": "127.0.0.1",
        "mail_port": port,
        "mail_security": "none",
        "mail_from": "Section de Lomé <noreply@lome.example>",
    }


async def with_member(rn: RunningNode) -> RunningNode:
    await sel.account_open(rn.node, "awa", "Awa", None, None, by=OPERATOR)
    return rn


def link_in(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    (line,) = [w for w in text.split() if "/invitation/" in w]
    return str(line)


async def test_an_invitation_is_mailed_in_french_and_its_link_logs_in(
    make_node: MakeNode, smtp: SmtpServer
) -> None:
    rn = await with_member(await make_node("lome", **mail_settings(smtp.port)))
    invited = await users.user_add(
        rn.node, OPERATOR, "awa", ["member:awa"], "Awa Kodjo", "awa@example.org"
    )
    assert (invited.mailed_to, invited.mail_error) == ("awa@example.org", None)
    ((rcpt, message),) = smtp.mailbox.received
    assert rcpt == ["awa@example.org"]
    assert message["To"] == "Awa Kodjo <awa@example.org>"
    assert message["From"] == "Section de Lomé <noreply@lome.example>"
    assert message["Subject"] == "Lome : choisissez votre mot de passe"
    assert message["Auto-Submitted"] == "auto-generated"
    assert link_in(message) == invited.link
    body = message.get_body(("plain",))
    assert body is not None and "valable 7 jours" in body.get_content()
    # The mailed link is the one that works.
    async with new_browser() as browser:
        token = await log_in_with_link(browser, rn, link_in(message))
        assert token


async def test_a_reset_is_mailed_in_the_persons_language(
    make_node: MakeNode, smtp: SmtpServer
) -> None:
    rn = await with_member(await make_node("lome", **mail_settings(smtp.port)))
    await users.user_add(rn.node, OPERATOR, "awa", ["member:awa"])
    assert smtp.mailbox.received == []  # no address: nothing mailed
    await users.user_set_email(rn.node, OPERATOR, "awa", "awa@example.org")
    async with rn.node.write() as session:
        from sqlalchemy import update

        from models.accounts import User

        await session.execute(update(User).values(language="en"))
    reset = await users.user_reset(rn.node, OPERATOR, "awa")
    assert reset.mailed_to == "awa@example.org"
    ((_, message),) = smtp.mailbox.received
    assert message["Subject"] == "Lome: choose your password"
    assert link_in(message) == reset.link


async def test_an_unreachable_mail_server_leaves_the_link_valid_and_says_why(
    make_node: MakeNode,
) -> None:
    closed = free_port()  # nothing listens there
    rn = await with_member(await make_node("lome", **mail_settings(closed)))
    invited = await users.user_add(
        rn.node, OPERATOR, "awa", ["member:awa"], email="awa@example.org"
    )
    assert invited.mailed_to is None
    assert invited.mail_error is not None and f"127.0.0.1:{closed}" in invited.mail_error
    async with new_browser() as browser:
        assert await log_in_with_link(browser, rn, invited.link)


async def test_the_cli_says_where_the_link_went_and_fails_when_mail_did(
    make_node: MakeNode, smtp: SmtpServer
) -> None:
    rn = await with_member(await make_node("lome", **mail_settings(smtp.port)))
    data = str(rn.config.data_dir)
    code, out, err = await coopnet(
        "user", "add", "--data", data, "awa", "--role", "member:awa", "--email", "awa@example.org"
    )
    assert code == 0, err
    assert "mailed to awa@example.org" in out
    ((_, message),) = smtp.mailbox.received
    assert link_in(message) in out
    code, out, err = await coopnet("user", "list", "--data", data)
    assert "<awa@example.org>" in out

    # A wrong address is refused and changes nothing.
    code, out, err = await coopnet("user", "email", "--data", data, "awa", "awa@@example")
    assert code != 0 and "not an e-mail address" in err
    code, out, err = await coopnet("user", "list", "--data", data)
    assert "<awa@example.org>" in out

    # The mail server goes away: the link is printed, the failure said, status 1.
    config = load_config(rn.config.data_dir)
    config.mail_port = free_port()
    config.save()
    code, out, err = await coopnet("user", "reset", "--data", data, "awa")
    assert code == 1
    assert "/invitation/" in out and "the link was not mailed" in err
    assert len(smtp.mailbox.received) == 1

    code, out, err = await coopnet("user", "email", "--data", data, "awa", "")
    assert code == 0 and "no address" in out


async def test_a_coordinator_invites_with_an_address_and_sees_it_was_mailed(
    make_node: MakeNode, smtp: SmtpServer
) -> None:
    rn = await with_member(await make_node("lome", **mail_settings(smtp.port)))
    async with new_browser() as browser:
        link = (await users.user_add(rn.node, OPERATOR, "coord", ["coordinator"])).link
        await log_in_with_link(browser, rn, link)
        form, _ = await page(browser, f"{rn.url}/admin/users")
        assert "Le lien est aussi envoyé à cette adresse." in text_of(form)
        status, _, body = await post(
            browser,
            rn,
            "/admin/users",
            {"name": "awa", "member": "awa", "email": "awa@example.org"},
            token=csrf_of(form),
        )
        assert status == 200, body
        assert "Le lien a aussi été envoyé à awa@example.org" in text_of(body)
        ((rcpt, message),) = smtp.mailbox.received
        assert rcpt == ["awa@example.org"] and link_in(message) in body

        # A wrong address on the account's page: refused, nothing changed.
        account, _ = await page(browser, f"{rn.url}/admin/users/awa")
        status, _, refused = await post(
            browser,
            rn,
            "/admin/users/awa/email",
            {"email": "pas une adresse"},
            token=csrf_of(account),
        )
        assert status == 400 and "ce n'est pas une adresse e-mail" in text_of(refused)
        assert (await users.user_get(rn.node, OPERATOR, "awa")).email == "awa@example.org"
        status, location, _ = await post(
            browser,
            rn,
            "/admin/users/awa/email",
            {"email": "awa.kodjo@example.org"},
            token=csrf_of(account),
        )
        assert (status, location) == (303, "/admin/users/awa?done=email-saved")
        saved, _ = await page(browser, f"{rn.url}{location}")
        assert "Adresse e-mail enregistrée" in saved and "awa.kodjo@example.org" in saved
        # A new link goes to the new address.
        status, _, reset = await post(
            browser, rn, "/admin/users/awa/reset", {}, token=csrf_of(saved)
        )
        assert status == 200 and "awa.kodjo@example.org" in text_of(reset)
        assert smtp.mailbox.received[-1][0] == ["awa.kodjo@example.org"]


async def test_without_mail_nothing_is_sent_and_the_page_says_so(make_node: MakeNode) -> None:
    rn = await with_member(await make_node("lome"))
    assert not configured(rn.config)
    invited = await users.user_add(
        rn.node, OPERATOR, "awa", ["member:awa"], email="awa@example.org"
    )
    assert (invited.mailed_to, invited.mail_error) == (None, None)
    async with new_browser() as browser:
        link = (await users.user_add(rn.node, OPERATOR, "coord", ["coordinator"])).link
        await log_in_with_link(browser, rn, link)
        form, _ = await page(browser, f"{rn.url}/admin/users")
        assert "Ce nœud n'envoie pas de courriel" in text_of(form)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('host = "smtp.example"', "mail.host is set but mail.from is empty"),
        ('security = "ssl"', "mail.security must be one of starttls, tls, none"),
        ("port = 0", "mail.port 0 is not a TCP port"),
        ('nonsense = "x"', "unknown setting mail.nonsense"),
    ],
)
async def test_bad_mail_settings_are_refused_with_what_to_fix(
    make_node: MakeNode, lines: str, message: str
) -> None:
    rn = await make_node("lome")
    path = rn.config.data_dir / CONFIG_NAME
    before, _, after = path.read_text(encoding="utf-8").partition("\n[mail]\n")
    assert after, "the written config has a [mail] section"
    rest = after[after.index("\n[delivery]") :]
    path.write_text(f"{before}\n[mail]\n{lines}\n{rest}", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(rn.config.data_dir)
    assert message in str(refused.value)
