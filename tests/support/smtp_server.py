"""A real SMTP server on 127.0.0.1 for the notifier's tests (aiosmtpd): login, receive, record.

`stop()` then `start()` keeps the port, so a test can play an outage and a recovery.
"""

from __future__ import annotations

import email
import email.policy
import logging
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.helpers import PATIENCE, free_port


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server saw it; bodies are None when the part is missing."""

    subject: str
    sender: str
    to: str
    text: str | None
    html: str | None
    login: str | None
    message_id: str = ""  # every Message-ID header, joined with ", " (one is right)


# aiosmtpd warns on every login that its own Session.login_data is deprecated: noise
logging.getLogger("mail.log").setLevel(logging.ERROR)


class SmtpServer:
    """`with SmtpServer("user", "secret") as smtp:` then send to `127.0.0.1:smtp.port`.

    Only that login is accepted (AUTH LOGIN or PLAIN, no TLS needed); each message records
    the login its session used (None: it never logged in), so a test can see it went through.
    """

    def __init__(self, user: str, password: str, *, size_limit: int | None = None) -> None:
        """`size_limit`: refuse messages over that many bytes (`552`), as mail servers do."""
        self.user = user
        self.password = password
        self.size_limit = size_limit
        self.port = free_port()
        self._messages: list[ReceivedMail] = []
        self._refused: list[ReceivedMail] = []
        self._to_refuse = 0
        self._arrived = threading.Condition()
        self._controller: Controller | None = None

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def messages(self) -> list[ReceivedMail]:
        """A copy: the server thread may append while a test reads."""
        with self._arrived:
            return list(self._messages)

    @property
    def refused(self) -> list[ReceivedMail]:
        """The messages answered with a temporary failure (`refuse`), in arrival order."""
        with self._arrived:
            return list(self._refused)

    def refuse(self, count: int) -> None:
        """Answer the next `count` messages `451` (try again later), after reading them."""
        with self._arrived:
            self._to_refuse = count

    def start(self) -> None:
        """Listen on `port` (again, after a `stop()`)."""
        if self._controller is None:
            self._controller = Controller(
                _Handler(self),
                hostname="127.0.0.1",
                port=self.port,
                authenticator=self._authenticate,
                auth_require_tls=False,
                **({"data_size_limit": self.size_limit} if self.size_limit else {}),
            )
            self._controller.start()

    def stop(self) -> None:
        """Close the listener: connecting is refused until `start()`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = PATIENCE) -> list[ReceivedMail]:
        """Block until at least `count` messages arrived; fail the test after `timeout`."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._messages) >= count, timeout):
                raise AssertionError(f"{len(self._messages)} of {count} mails arrived")
            return list(self._messages)

    def record(self, mail: ReceivedMail) -> bool:
        """Keep one message; whether it is accepted (else refused, see `refuse`)."""
        with self._arrived:
            if self._to_refuse > 0:
                self._to_refuse -= 1
                self._refused.append(mail)
                return False
            self._messages.append(mail)
            self._arrived.notify_all()
            return True

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        """Accept exactly the one configured user and password."""
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = data.login.decode() == self.user and data.password.decode() == self.password
        return AuthResult(success=ok, handled=False, auth_data=data)


class _Handler:
    """aiosmtpd calls `handle_DATA` once per accepted message."""

    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_DATA(  # noqa: N802 (the name aiosmtpd dispatches to)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        login = session.auth_data.login.decode() if session.auth_data else None
        if not self._server.record(parse_mail(raw, login)):
            return "451 4.3.0 Try again later"
        return "250 Message accepted for delivery"


def parse_mail(raw: bytes, login: str | None) -> ReceivedMail:
    """Split a raw RFC 5322 message into the parts a test asserts on."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return ReceivedMail(
        subject=str(message["subject"] or ""),
        sender=str(message["from"] or ""),
        to=str(message["to"] or ""),
        text=_part(message, "plain"),
        html=_part(message, "html"),
        login=login,
        message_id=", ".join(str(value) for value in message.get_all("message-id") or ()),
    )


def _part(message: EmailMessage, subtype: str) -> str | None:
    body = message.get_body(preferencelist=(subtype,))
    if body is None or body.get_content_subtype() != subtype:
        return None
    return str(body.get_content())


