"""Email through SMTP (Python's ``smtplib`` and ``email``), configured from the environment.

    GOVERNANCE_SMTP_HOST      the server (unset: no email is sent; reminders wait)
    GOVERNANCE_SMTP_PORT      default 587 with STARTTLS, 465 with SSL, 25 without TLS
    GOVERNANCE_SMTP_TLS       "starttls" (default), "ssl" or "none"
    GOVERNANCE_SMTP_USER      and GOVERNANCE_SMTP_PASSWORD, when the server wants a login
    GOVERNANCE_SMTP_SENDER    the From address (required with a host)
    GOVERNANCE_PUBLIC_URL     this site's address, for the links in messages (e.g. https://pilots.example.org)
"""
from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType

TLS_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send email."""

    host: str
    port: int
    tls: str
    sender: str
    user: str = ""
    password: str = ""
    timeout: float = 20.0


class MailNotConfigured(Exception):
    """The environment does not say how to send email (the message says what to set)."""


def settings_from(env: Mapping[str, str] | None = None) -> SmtpSettings | None:
    """The SMTP settings in ``env`` (default: the environment); None when no host is set.
    ``MailNotConfigured`` when what is set is incomplete or wrong."""
    env = os.environ if env is None else env
    host = env.get("GOVERNANCE_SMTP_HOST", "").strip()
    if not host:
        return None
    tls = env.get("GOVERNANCE_SMTP_TLS", "starttls").strip().lower() or "starttls"
    if tls not in TLS_MODES:
        raise MailNotConfigured(f"GOVERNANCE_SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {tls!r}.")
    raw_port = env.get("GOVERNANCE_SMTP_PORT", "").strip()
    if raw_port and not (raw_port.isdigit() and 0 < int(raw_port) < 65536):
        raise MailNotConfigured(f"GOVERNANCE_SMTP_PORT must be a port number, not {raw_port!r}.")
    sender = env.get("GOVERNANCE_SMTP_SENDER", "").strip()
    if "@" not in sender:
        raise MailNotConfigured("Set GOVERNANCE_SMTP_SENDER to the address reminders come from "
                                "(e.g. pilots@your.org).")
    return SmtpSettings(host=host, port=int(raw_port) if raw_port else DEFAULT_PORTS[tls], tls=tls,
                        sender=sender, user=env.get("GOVERNANCE_SMTP_USER", ""),
                        password=env.get("GOVERNANCE_SMTP_PASSWORD", ""))


def public_url(env: Mapping[str, str] | None = None) -> str:
    """This site's address for links in messages ("" when not configured)."""
    env = os.environ if env is None else env
    return env.get("GOVERNANCE_PUBLIC_URL", "").strip().rstrip("/")


class Mailer:
    """One SMTP connection for a run of messages (``with Mailer(settings) as m: m.send(...)``)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        cfg = self.settings
        context = ssl.create_default_context()
        if cfg.tls == "ssl":
            self._smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
        else:
            self._smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            if cfg.tls == "starttls":
                self._smtp.starttls(context=context)
        if cfg.user:
            self._smtp.login(cfg.user, cfg.password)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except smtplib.SMTPException:
                self._smtp.close()
            self._smtp = None

    def send(self, to: str, subject: str, body: str) -> None:
        """Send one plain-text message (raises ``smtplib.SMTPException`` or ``OSError`` on failure)."""
        assert self._smtp is not None, "use the Mailer in a with block"
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        self._smtp.send_message(message)
