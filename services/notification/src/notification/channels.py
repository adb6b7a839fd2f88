"""The ways out: e-mail over SMTP and signed webhooks over HTTP."""

from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.charset import BASE64, Charset
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate

import requests

from .domain import signature
from .targets import TargetPolicy, TargetRefused, guarded_session

TIMESTAMP_HEADER = "X-Kompas-Timestamp"
SIGNATURE_HEADER = "X-Kompas-Signature"
DELIVERY_HEADER = "X-Kompas-Delivery"

UTF8 = Charset("utf-8")
UTF8.header_encoding = UTF8.body_encoding = BASE64  # C-speed; parsers decode either way
EVENT_HEADER = "X-Kompas-Event-Type"


class DeliveryError(Exception):
    """An attempt failed; ``permanent`` when trying again cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Email:
    delivery_id: str
    to_name: str | None
    to_address: str
    subject: str
    body: str


SMTP_TLS_MODES = ("none", "starttls", "ssl")


@dataclass(frozen=True)
class SmtpSender:
    """Sends plain-text UTF-8 mail; ``tls`` is ``none``, ``starttls`` or ``ssl``."""

    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    tls: str = "none"
    timeout: float = 10.0

    def message(self, email: Email) -> Message:
        """The message in the email package's compat32 form: a quarter of the CPU time of
        an EmailMessage, whose headers are parsed and refolded on every assignment."""
        message = MIMEText(email.body, "plain", UTF8)
        message["From"] = self.sender
        message["To"] = formataddr((email.to_name or "", email.to_address))
        subject = email.subject
        message["Subject"] = subject if subject.isascii() else Header(subject, UTF8)
        message["Date"] = formatdate(localtime=False)
        # the same id on every attempt, so a mail system can drop a copy sent again after a crash
        message["Message-ID"] = f"<{email.delivery_id}@kompas-asn>"
        message[DELIVERY_HEADER] = email.delivery_id
        return message

    def send(self, email: Email) -> None:
        """Send one message over a connection of its own."""
        connection = SmtpConnection(self)
        try:
            connection.send(email)
        finally:
            connection.close()

    def open(self) -> smtplib.SMTP:
        smtp = self._connect()
        if self.user:
            smtp.login(self.user, self.password or "")
        return smtp

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "ssl":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp


class SmtpConnection:
    """One SMTP connection kept open over several messages (a dispatcher's batch): opening
    one per message costs more than sending it. It is opened on the first message, dropped
    after any failure, and opened anew once if the server had closed it meanwhile."""

    def __init__(self, sender: SmtpSender) -> None:
        self.sender = sender
        self.smtp: smtplib.SMTP | None = None

    def send(self, email: Email) -> None:
        message = self.sender.message(email)
        reused = self.smtp is not None
        try:
            try:
                self._send(message)
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                self._send(message)  # an idle connection the server closed: once more
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            raise DeliveryError(f"recipient refused: {exc.recipients}", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            text = exc.smtp_error.decode(errors="replace") if exc.smtp_error else ""
            raise DeliveryError(
                f"SMTP {exc.smtp_code} {text}".strip(), permanent=exc.smtp_code >= 500
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None

    def _send(self, message: Message) -> None:
        if self.smtp is None:
            self.smtp = self.sender.open()
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self.smtp = None
            raise

    def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


@dataclass(frozen=True)
class Webhook:
    delivery_id: str
    event_type: str
    url: str
    body: bytes
    secret: str


@dataclass(frozen=True)
class WebhookSender:
    """POSTs the CloudEvent, signed: ``X-Kompas-Signature: sha256=HMAC(secret, ts.body)``."""

    timeout: float = 10.0
    policy: TargetPolicy = field(default_factory=TargetPolicy)
    session: requests.Session = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "session", guarded_session(self.policy))

    def headers(self, webhook: Webhook, timestamp: str) -> dict[str, str]:
        return {
            "Content-Type": "application/cloudevents+json; charset=utf-8",
            "User-Agent": "kompas-asn-notification/1",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(webhook.secret, timestamp, webhook.body),
            DELIVERY_HEADER: webhook.delivery_id,
            EVENT_HEADER: webhook.event_type,
        }

    def send(self, webhook: Webhook) -> None:
        timestamp = str(int(time.time()))
        try:
            self.policy.check_url(webhook.url)
            response = self.session.post(
                webhook.url,
                data=webhook.body,
                headers=self.headers(webhook, timestamp),
                timeout=self.timeout,
                allow_redirects=False,
            )
        except TargetRefused as exc:
            # a name that does not resolve may again; an address refused stays refused
            transient = exc.message.code == "webhook.unresolved"
            raise DeliveryError(f"{exc.message.code}: {exc}", permanent=not transient) from None
        except requests.RequestException as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"HTTP {response.status_code} {response.text[:200]}".strip())
