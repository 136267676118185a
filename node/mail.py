"""Mail the one-time password links when the node has an SMTP server.

Optional by design: most sections start without a mail server, and a
coordinator hands the link over by hand (the CLI prints it, the page shows
it). When ``[mail]`` names a server and the account has an address, the
link is also mailed; a failure to send never undoes the link, it is told to
the coordinator with what went wrong, so they can give the link themselves.

The message is plain text, in the person's language (French unless they
chose English), and holds nothing but the link and what it is for: no
password, no session.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import urlsplit

import aiosmtplib

from node.config import Config

log = logging.getLogger("coopnet.mail")

#: Seconds for the whole exchange with the server (connect, TLS, send).
TIMEOUT = 20.0

SUBJECT = {
    "fr": "{title} : choisissez votre mot de passe",
    "en": "{title}: choose your password",
}
BODY = {
    "fr": (
        "Bonjour {who},\n\n"
        "Un compte vous attend sur {title} ({base}).\n"
        "Pour choisir votre mot de passe, ouvrez ce lien :\n\n{link}\n\n"
        "Le lien sert une seule fois et reste valable 7 jours. Si vous n'attendiez\n"
        "pas ce message, ignorez-le : rien ne change sans ce lien.\n"
    ),
    "en": (
        "Hello {who},\n\n"
        "An account is waiting for you on {title} ({base}).\n"
        "To choose your password, open this link:\n\n{link}\n\n"
        "The link works once and for 7 days. If you did not expect this message,\n"
        "ignore it: nothing changes without the link.\n"
    ),
}


class MailFailed(Exception):
    """The server could not be reached or refused the message; ``str`` says why."""


def configured(config: Config) -> bool:
    return bool(config.mail_host)


def password_link_message(
    config: Config, to: str, who: str, link: str, language: str | None
) -> EmailMessage:
    lang = language if language in BODY else "fr"
    fill = {"title": config.title, "base": config.url, "who": who, "link": link}
    message = EmailMessage()
    message["From"] = config.mail_from
    message["To"] = formataddr((who, to))
    message["Subject"] = SUBJECT[lang].format(**fill)
    message["Message-ID"] = make_msgid(domain=urlsplit(config.url).hostname or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(BODY[lang].format(**fill))
    return message


async def send(config: Config, message: EmailMessage) -> None:
    """Hand ``message`` to the configured server, or raise MailFailed saying why."""
    security = config.mail_security
    try:
        await aiosmtplib.send(
            message,
            hostname=config.mail_host,
            port=config.mail_port,
            username=config.mail_username or None,
            password=config.mail_password or None,
            use_tls=security == "tls",
            start_tls=True if security == "starttls" else False,
            timeout=TIMEOUT,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        reason = f"{type(exc).__name__}: {exc}".strip()
        log.warning(
            "mail to %s through %s:%s failed: %s",
            message["To"],
            config.mail_host,
            config.mail_port,
            reason,
        )
        where = f"{config.mail_host}:{config.mail_port}"
        raise MailFailed(f"the mail server {where} said {reason}") from exc
    log.info("mailed %r to %s", message["Subject"], message["To"])
