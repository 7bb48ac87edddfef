"""The outbox: queueing, on-commit delivery, dedupe, retries, dead letters, privacy, races."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from zwfw.core.errors import Conflict, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.notifications import providers, services
from zwfw.notifications.models import OutboxMessage, SandboxDelivery, SiteMessage
from zwfw.notifications.services import Outcome, deliver, deliver_due, queue_message

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
CODE = "864209"
S = dt.timedelta(seconds=1)


def sms_code(phone: str = PHONE, **kwargs: Any) -> OutboxMessage:
    return queue_message(
        channel="sms",
        recipient=phone,
        template_code="identity.sms_code",
        context={"code": CODE, "minutes": 5},
        **kwargs,
    )


def queued(phone: str = PHONE, **kwargs: Any) -> OutboxMessage:
    """Queue without running the on-commit delivery (the test drives delivery itself)."""
    with transaction.atomic():
        message = sms_code(phone, **kwargs)
    return message


@pytest.fixture(autouse=True)
def node_name(settings) -> None:
    settings.NODE_NAME = "测试市政务服务平台"


# --- queue and deliver ---------------------------------------------------------------------


def test_queue_then_deliver_on_commit_through_the_sandbox(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = sms_code()
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 1
    assert message.provider == "sandbox"
    assert message.provider_message_id.startswith("sbx-")
    assert message.sent_at is not None
    delivered = SandboxDelivery.objects.get()
    assert delivered.outbox_id == message.pk
    assert delivered.recipient == PHONE
    assert delivered.body == "【测试市政务服务平台】您的验证码为864209，5分钟内有效。请勿泄露。"
    assert delivered.provider_message_id == message.provider_message_id


def test_nothing_is_sent_before_commit_or_after_rollback(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        message = sms_code()
    assert message.status == OutboxMessage.Status.PENDING
    assert not SandboxDelivery.objects.exists()  # not before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert SandboxDelivery.objects.count() == 1

    def queue_in_a_failing_transaction() -> None:
        with transaction.atomic():
            sms_code("13812345679")
            raise RuntimeError("the caller's transaction fails")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        queue_in_a_failing_transaction()
    assert callbacks == []
    assert OutboxMessage.objects.count() == 1


def test_dedupe_key_returns_the_existing_message(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = sms_code(dedupe_key="login:42:2025-10-01T10:00")
        second = sms_code(dedupe_key="login:42:2025-10-01T10:00")
    assert second.pk == first.pk
    assert OutboxMessage.objects.count() == 1
    assert len(callbacks) == 1
    assert SandboxDelivery.objects.count() == 1
    with pytest.raises(ValidationError) as caught:
        sms_code(dedupe_key="k" * 129)
    assert caught.value.code == "notify.dedupe_key_too_long"


@pytest.mark.parametrize(
    ("channel", "recipient"),
    [
        ("sms", "12345678901"),
        ("sms", "1381234567"),
        ("sms", "phone"),
        ("email", "not-an-address"),
        ("email", "a@b"),
    ],
)
def test_bad_recipients_are_refused_and_nothing_is_queued(channel: str, recipient: str) -> None:
    with pytest.raises(ValidationError) as caught:
        queue_message(
            channel=channel,
            recipient=recipient,
            template_code="case.accepted",
            context={"item": "户口迁移", "case_number": "N1", "due_date": "2025-10-11"},
        )
    assert caught.value.code == "notify.recipient_invalid"
    assert caught.value.field == "recipient"
    assert caught.value.message
    assert not OutboxMessage.objects.exists()


def test_unknown_channel_and_site_without_user_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        queue_message(channel="fax", recipient="1", template_code="case.closed", context={})
    assert caught.value.code == "notify.channel_invalid"
    with pytest.raises(ValidationError) as caught:
        queue_message(channel="site", recipient="", template_code="case.closed", context={})
    assert caught.value.code == "notify.recipient_user_required"


def test_phone_forms_are_normalised() -> None:
    message = queued("+86 138-1234-5678")
    assert message.recipient == PHONE


# --- privacy -------------------------------------------------------------------------------


def test_recipient_and_body_are_encrypted_at_rest() -> None:
    message = queued()
    with connection.cursor() as cursor:
        cursor.execute("SELECT recipient, recipient_index, body FROM notifications_outboxmessage")
        recipient, index, body = cursor.fetchone()
    assert recipient.startswith("v1:")
    assert PHONE not in recipient
    assert CODE not in body
    assert body.startswith("v1:")
    assert len(index) == 64
    assert PHONE not in index
    message.refresh_from_db()
    assert message.recipient == PHONE


def test_lookup_by_blind_index() -> None:
    mine = queued()
    queued("13987654321")
    for form in (PHONE, "138 1234 5678", "+8613812345678"):
        assert list(services.messages_for_recipient(form)) == [mine]
    assert list(services.messages_for_recipient(PHONE, channel="email")) == []
    assert not services.messages_for_recipient("13800000000").exists()


def test_logs_and_errors_never_hold_the_number_or_the_code(
    caplog, django_capture_on_commit_callbacks
) -> None:
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        sms_code()
        sms_code("13900000002")  # fails permanently: error path logged too
    failed = OutboxMessage.objects.get(status=OutboxMessage.Status.DEAD)
    text = "\n".join(r.getMessage() for r in caplog.records) + failed.last_error
    assert "sent" in text
    assert "138****5678" in text
    assert "139****0002" in text
    for secret in (PHONE, "13900000002", CODE):
        assert secret not in text
    with pytest.raises(ValidationError) as caught:
        sms_code("23812345678")
    assert "23812345678" not in str(caught.value.as_dict())


# --- retries -------------------------------------------------------------------------------


def test_backoff_schedule() -> None:
    minutes = [services.backoff(n).total_seconds() / 60 for n in range(1, 8)]
    assert minutes == [0.5, 2, 8, 32, 128, 360, 360]


def test_temporary_failures_are_retried_with_backoff_then_sent() -> None:
    message = queued("13900000001")  # sandbox: fails twice, then delivers
    t0 = timezone.now() + S
    assert deliver(message.pk, now=t0) == Outcome.RETRYING
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.RETRYING, 1)
    assert "临时失败" in message.last_error
    assert t0 + 30 * S <= message.next_attempt_at <= t0 + 33 * S  # 30 s + up to 10 % jitter

    assert deliver(message.pk, now=t0 + 10 * S) == Outcome.SKIPPED  # not due yet
    t1 = message.next_attempt_at
    assert deliver(message.pk, now=t1) == Outcome.RETRYING
    message.refresh_from_db()
    assert message.attempts == 2
    assert t1 + 120 * S <= message.next_attempt_at <= t1 + 132 * S

    t2 = message.next_attempt_at
    assert deliver(message.pk, now=t2) == Outcome.SENT
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 3, "")
    assert message.sent_at == t2
    assert SandboxDelivery.objects.filter(outbox=message).count() == 1
    assert deliver(message.pk, now=t2 + 3600 * S) == Outcome.SKIPPED


def test_message_is_dead_after_max_attempts() -> None:
    message = queued("13900000003")  # sandbox: always a temporary failure
    now = timezone.now() + S
    outcomes = []
    for _ in range(5):
        outcomes.append(deliver(message.pk, now=now))
        message.refresh_from_db()
        now = message.next_attempt_at
    assert outcomes == ["retrying"] * 4 + ["dead"]
    assert (message.status, message.attempts) == (OutboxMessage.Status.DEAD, 5)
    assert deliver(message.pk, now=now + 86400 * S) == Outcome.SKIPPED
    assert not SandboxDelivery.objects.exists()


def test_permanent_failure_is_dead_at_once() -> None:
    message = queued("13900000002")
    assert deliver(message.pk, now=timezone.now() + S) == Outcome.DEAD
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.DEAD, 1)
    assert "永久失败" in message.last_error


def test_email_failure_triggers_in_the_sandbox() -> None:
    with transaction.atomic():
        message = queue_message(
            channel="email",
            recipient="fail-twice@example.cn",
            template_code="case.closed",
            context={"item": "户口迁移", "case_number": "N1", "result": "准予"},
        )
    now = timezone.now() + S
    assert deliver(message.pk, now=now) == Outcome.RETRYING
    message.refresh_from_db()
    assert deliver(message.pk, now=message.next_attempt_at) == Outcome.RETRYING
    message.refresh_from_db()
    assert deliver(message.pk, now=message.next_attempt_at) == Outcome.SENT
    assert SandboxDelivery.objects.get().subject == "【测试市政务服务平台】办件已办结：N1"


def test_retry_is_scheduled_on_a_backend_that_can_defer(
    monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from django_tasks.backends.immediate import ImmediateBackend

    scheduled: list[Any] = []
    monkeypatch.setattr(ImmediateBackend, "supports_defer", True)
    monkeypatch.setattr(
        ImmediateBackend, "enqueue", lambda self, task, args, kwargs: scheduled.append(task)
    )
    message = queued("13900000001")
    t0 = timezone.now() + S
    with django_capture_on_commit_callbacks(execute=True):
        deliver(message.pk, now=t0)
    message.refresh_from_db()
    assert [task.run_after for task in scheduled] == [message.next_attempt_at]


def test_provider_crash_is_a_temporary_failure(monkeypatch) -> None:
    def explode(self, message):
        raise KeyError("bug")

    monkeypatch.setattr(providers.SandboxProvider, "send", explode)
    message = queued()
    assert deliver(message.pk, now=timezone.now() + S) == Outcome.RETRYING
    message.refresh_from_db()
    assert message.last_error == "KeyError"


# --- sweeping ------------------------------------------------------------------------------


def test_deliver_due_sends_what_is_due_and_respects_the_limit() -> None:
    for i in range(12):
        queued(f"1381234{i:04d}")
    not_due = queued("13712345678")
    OutboxMessage.objects.filter(pk=not_due.pk).update(
        next_attempt_at=timezone.now() + dt.timedelta(hours=1)
    )
    now = timezone.now() + S
    assert deliver_due(limit=5, now=now) == 5
    assert deliver_due(now=now) == 7
    assert deliver_due(now=now) == 0
    assert OutboxMessage.objects.filter(status="sent").count() == 12
    assert SandboxDelivery.objects.count() == 12


def test_deliver_due_gives_up_on_an_interrupted_last_attempt() -> None:
    message = queued()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.RETRYING, attempts=5
    )
    assert deliver_due(now=timezone.now() + S) == 0
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DEAD
    assert "interrupted" in message.last_error


def test_send_outbox_command() -> None:
    queued()
    queued("13987654321")
    out = StringIO()
    call_command("send_outbox", stdout=out)
    assert "attempted 2" in out.getvalue()
    queued("13712345678")
    out = StringIO()
    call_command("send_outbox", "--loop", "--interval", "0", "--max-sweeps", "2", stdout=out)
    assert "attempted 1" in out.getvalue()
    assert SandboxDelivery.objects.count() == 3


# --- site messages -------------------------------------------------------------------------


def test_site_message_lands_in_the_users_inbox(
    django_user_model, django_capture_on_commit_callbacks
) -> None:
    user = django_user_model.objects.create_user(username="lina", password="x" * 12)
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_message(
            channel="site",
            recipient="",
            user=user,
            template_code="case.accepted",
            context={
                "item": "户口迁移",
                "case_number": "511600-20250928-0001",
                "due_date": "10月11日",
            },
        )
    inbox = SiteMessage.objects.get(user=user)
    assert inbox.title == "办件已受理"
    assert "511600-20250928-0001" in inbox.body
    message.refresh_from_db()
    assert message.recipient == f"user:{user.pk}"
    assert message.recipient_user == user
    assert message.provider_message_id == f"site-{inbox.pk}"


def test_site_message_for_a_deleted_user_is_dead(django_user_model) -> None:
    user = django_user_model.objects.create_user(username="gone", password="x" * 12)
    with transaction.atomic():
        message = queue_message(
            channel="site",
            recipient="",
            user=user,
            template_code="case.closed",
            context={"item": "x", "case_number": "N", "result": "准予"},
        )
    user.delete()
    assert deliver(message.pk, now=timezone.now() + S) == Outcome.DEAD


# --- staff operations ----------------------------------------------------------------------


def test_requeue_a_dead_message() -> None:
    message = queued("13900000002")
    deliver(message.pk, now=timezone.now() + S)
    with transaction.atomic():
        again = services.requeue_message(message.pk, actor="user:1")
    assert (again.status, again.attempts) == (OutboxMessage.Status.PENDING, 0)
    record = AuditRecord.objects.get(action="notifications:outbox:requeue")
    assert record.before == {"status": "dead", "attempts": 1}
    sent = queued()
    deliver(sent.pk, now=timezone.now() + S)
    with pytest.raises(Conflict):
        services.requeue_message(sent.pk)


def test_admin_shows_the_outbox_masked_and_finds_by_phone(admin_client: Client) -> None:
    queued()
    queued("13987654321")
    page = admin_client.get("/admin/notifications/outboxmessage/").content.decode()
    assert "138****5678" in page
    assert PHONE not in page
    found = admin_client.get("/admin/notifications/outboxmessage/", {"q": "138 1234 5678"})
    text = found.content.decode()
    assert "138****5678" in text
    assert "139****4321" not in text
    message = OutboxMessage.objects.get(
        recipient_index=OutboxMessage._meta.get_field("recipient_index").index_of(PHONE)
    )
    detail = admin_client.get(f"/admin/notifications/outboxmessage/{message.pk}/change/")
    assert detail.status_code == 200
    assert CODE not in detail.content.decode()
    assert PHONE not in detail.content.decode()


def test_admin_template_edit_is_checked_and_audited(admin_client: Client) -> None:
    from zwfw.notifications.models import MessageTemplate

    template = MessageTemplate.objects.get(code="case.closed", channel="sms")
    url = f"/admin/notifications/messagetemplate/{template.pk}/change/"
    form = {
        "code": template.code,
        "channel": template.channel,
        "language": template.language,
        "subject": "",
        "body": "【{node}】{user.password}",
        "description": template.description,
        "is_active": "on",
    }
    refused = admin_client.post(url, form)
    assert refused.status_code == 200
    assert "只能是简单名称" in refused.content.decode()
    form["body"] = "【{node}】办件{case_number}已办结。"
    assert admin_client.post(url, form).status_code == 302
    record = AuditRecord.objects.get(action="notifications:template:update")
    assert record.after["body"] == "【{node}】办件{case_number}已办结。"
    assert record.before["body"].startswith("【{node}】您申请的")


# --- races ---------------------------------------------------------------------------------


class RecordingProvider:
    """SMS provider that counts sends; optionally lets another 'worker' try mid-send."""

    name = "recording"
    channels = frozenset({"sms"})

    def __init__(self, pause: float = 0.0) -> None:
        self.pause = pause
        self.sent: list[Any] = []
        self.during_send: list[Outcome] = []
        self.lock = threading.Lock()
        self.interfere = False

    def send(self, message: OutboxMessage) -> str:
        if self.interfere:
            self.during_send.append(deliver(message.pk))
        time.sleep(self.pause)
        with self.lock:
            self.sent.append(message.pk)
        return f"rec-{len(self.sent)}"


@pytest.fixture
def recording(settings, monkeypatch):
    def install(pause: float = 0.0) -> RecordingProvider:
        provider = RecordingProvider(pause)
        monkeypatch.setitem(providers._REGISTRY, provider.name, provider)
        providers._parse.cache_clear()
        settings.NOTIFY_CHANNELS = "sms=recording,email=sandbox,site=site"
        return provider

    yield install
    providers._parse.cache_clear()


def test_a_second_worker_mid_send_does_not_send_again(recording) -> None:
    provider = recording()
    provider.interfere = True
    message = queued()
    assert deliver(message.pk) == Outcome.SENT
    assert provider.during_send == [Outcome.SKIPPED]
    assert provider.sent == [message.pk]
    assert deliver(message.pk) == Outcome.SKIPPED


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_each_message_once(recording, monkeypatch) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions need PostgreSQL (SQLite serialises writers)")
    provider = recording(pause=0.05)
    # Commits are real here: keep the on-commit task from delivering before the race.
    monkeypatch.setattr(services, "_enqueue_delivery", lambda *args: None)
    with transaction.atomic():
        one = sms_code()
    for i in range(20):
        with transaction.atomic():
            sms_code(f"1371234{i:04d}")
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def worker(job) -> None:
        try:
            barrier.wait()
            outcomes.append(job())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(lambda: deliver(one.pk),)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [Outcome.SENT, Outcome.SKIPPED]
    assert provider.sent == [one.pk]

    outcomes.clear()
    barrier.reset()
    threads = [threading.Thread(target=worker, args=(deliver_due,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(outcomes) == 20
    assert len(provider.sent) == len(set(provider.sent)) == 21
    assert OutboxMessage.objects.filter(status="sent").count() == 21
