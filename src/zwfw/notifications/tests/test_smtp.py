"""The SMTP provider against a real SMTP server listening on 127.0.0.1 for the test."""

from __future__ import annotations

import email
import email.policy
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.utils import timezone

from zwfw.notifications.models import OutboxMessage
from zwfw.notifications.services import Outcome, deliver, queue_message

pytestmark = pytest.mark.django_db

CONTEXT = {"item": "户口迁移", "case_number": "511600-20250928-0001", "due_date": "2025年10月11日"}


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class Mailbox:
    messages: list[Received] = field(default_factory=list)


class SmtpHandler(socketserver.StreamRequestHandler):
    """Enough of RFC 5321 for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.

    Recipients ``busy@…`` get 451 (try later) and ``nobody@…`` get 550 (no such user).
    """

    server: SmtpServer

    def reply(self, *lines: str) -> None:
        self.wfile.write("".join(f"{line}\r\n" for line in lines).encode())
        self.wfile.flush()

    def handle(self) -> None:
        self.reply("220 zwfw-test ESMTP ready")
        self.sender, self.recipients = "", []
        while raw := self.rfile.readline():
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb == "QUIT":
                self.reply("221 2.0.0 bye")
                return
            getattr(self, f"smtp_{verb.lower()}", self.smtp_unknown)(line)

    def smtp_unknown(self, line: str) -> None:
        self.reply("502 5.5.2 command not recognised")

    def smtp_ehlo(self, line: str) -> None:
        self.reply("250-zwfw-test", "250 8BITMIME")

    def smtp_helo(self, line: str) -> None:
        self.reply("250 zwfw-test")

    def smtp_noop(self, line: str) -> None:
        self.reply("250 2.0.0 OK")

    def smtp_rset(self, line: str) -> None:
        self.sender, self.recipients = "", []
        self.reply("250 2.0.0 OK")

    def smtp_mail(self, line: str) -> None:
        self.sender, self.recipients = line[line.index("<") + 1 : line.rindex(">")], []
        self.reply("250 2.1.0 OK")

    def smtp_rcpt(self, line: str) -> None:
        address = line[line.index("<") + 1 : line.rindex(">")]
        local = address.partition("@")[0]
        if local == "busy":
            self.reply("451 4.2.1 mailbox busy, try later")
        elif local == "nobody":
            self.reply("550 5.1.1 no such user")
        else:
            self.recipients.append(address)
            self.reply("250 2.1.5 OK")

    def smtp_data(self, line: str) -> None:
        if not self.recipients:
            self.reply("503 5.5.1 no valid recipients")
            return
        self.reply("354 end with <CRLF>.<CRLF>")
        chunks = []
        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
            chunks.append(chunk[1:] if chunk.startswith(b"..") else chunk)
        received = Received(self.sender, self.recipients, b"".join(chunks))
        self.server.mailbox.messages.append(received)
        self.reply("250 2.0.0 queued")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.mailbox = Mailbox()


@pytest.fixture
def smtp_server(settings) -> Iterator[Mailbox]:
    server = SmtpServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.server_address[:2]
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.DEFAULT_FROM_EMAIL = "政务服务 <zwfw@example.cn>"
    settings.NOTIFY_CHANNELS = "sms=sandbox,email=smtp,site=site"
    settings.NODE_NAME = "测试市政务服务平台"
    try:
        yield server.mailbox
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def queued_email(recipient: str) -> OutboxMessage:
    with transaction.atomic():
        return queue_message(
            channel="email", recipient=recipient, template_code="case.accepted", context=CONTEXT
        )


def test_email_is_delivered_through_a_real_smtp_server(
    smtp_server: Mailbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_message(
            channel="email",
            recipient="li.na@example.cn",
            template_code="case.accepted",
            context=CONTEXT,
        )
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.provider == "smtp"
    [received] = smtp_server.messages
    assert received.sender == "zwfw@example.cn"
    assert received.recipients == ["li.na@example.cn"]
    parsed = email.message_from_bytes(received.data, policy=email.policy.default)
    # (the parser keeps the space of the folded first line: strip it)
    assert parsed["Subject"].strip() == "【测试市政务服务平台】办件已受理：511600-20250928-0001"
    assert parsed["To"] == "li.na@example.cn"
    assert parsed["Message-ID"] == message.provider_message_id
    assert message.provider_message_id == f"<{message.pk}@example.cn>"
    body = parsed.get_body(preferencelist=("plain",)).get_content()
    assert "您申请的“户口迁移”（办件编号511600-20250928-0001）已受理" in body


def test_smtp_4xx_is_retried_and_5xx_is_dead(smtp_server: Mailbox) -> None:
    busy = queued_email("busy@example.cn")
    assert deliver(busy.pk, now=timezone.now()) == Outcome.RETRYING
    busy.refresh_from_db()
    assert busy.last_error == "SMTP recipient refused (451)"
    nobody = queued_email("nobody@example.cn")
    assert deliver(nobody.pk, now=timezone.now()) == Outcome.DEAD
    nobody.refresh_from_db()
    assert nobody.last_error == "SMTP recipient refused (550)"
    assert smtp_server.messages == []


def test_unreachable_smtp_server_is_a_temporary_failure(settings, smtp_server: Mailbox) -> None:
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = probe.getsockname()[1]
    message = queued_email("li.na@example.cn")
    assert deliver(message.pk, now=timezone.now()) == Outcome.RETRYING
    message.refresh_from_db()
    assert message.last_error.startswith("SMTP unavailable: ConnectionRefusedError")
