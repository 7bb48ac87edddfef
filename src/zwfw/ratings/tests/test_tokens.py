"""QR rating tokens: signed, single use, expiring; the case notice's URL; visit codes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import signing
from django.utils import timezone

from zwfw.cases import services as cases
from zwfw.cases.models import Case
from zwfw.core.errors import Conflict, PermissionDenied, ValidationError, ZwfwError
from zwfw.core.models import AuditRecord
from zwfw.notifications.models import OutboxMessage
from zwfw.ratings import services
from zwfw.ratings.models import Channel, Rating, RatingKind, RatingToken
from zwfw.ratings.tests.conftest import submitted

pytestmark = pytest.mark.django_db


def token_of(url: str) -> str:
    prefix = "/ratings/r/"
    assert prefix in url, url
    return url.split(prefix, 1)[1]


def test_case_token_rates_once(people: dict[str, Any], case: Case) -> None:
    url = services.rating_url_for_case(case)
    assert url.startswith("http")
    token = token_of(url)
    row = services.token_row(token)
    assert row.kind == RatingKind.CASE
    assert services.token_state(row) == "open"
    rating = services.rate_by_token(
        token,
        level=4,
        text="指南写的材料和窗口要的不一样",
        scores={"guide_accuracy": 1},
        named=True,
        contact_name="李娜",
        contact_phone="13900001111",
    )
    assert rating.kind == RatingKind.CASE
    assert rating.case == case
    assert rating.channel == Channel.QR_CODE
    assert rating.rater is None
    assert rating.rater_name == "李*"
    assert rating.named
    assert rating.rectification.status == "verifying"
    assert "窗口服务" not in OutboxMessage.objects.get(recipient_user=people["decider"]).subject
    row.refresh_from_db()
    assert row.used_at is not None
    assert row.rating == rating
    assert services.token_state(row) == "used"
    with pytest.raises(Conflict) as info:
        services.rate_by_token(token, level=1)
    assert info.value.code == "ratings.token_used"
    assert Rating.objects.count() == 1
    assert Rating.objects.get().level == 4
    creation = AuditRecord.objects.get(action="ratings:rating:create")
    assert creation.actor == f"token:{row.pk}"


def test_a_second_token_cannot_rate_a_rated_case(people: dict[str, Any], case: Case) -> None:
    services.rate_case(people["person"], case, level=1)
    token = token_of(services.rating_url_for_case(case))
    assert services.token_state(services.token_row(token)) == "rated"
    with pytest.raises(Conflict) as info:
        services.rate_by_token(token, level=5, text="x")
    assert info.value.code == "ratings.already_rated"
    # The failed attempt did not burn the token either.
    assert RatingToken.objects.get(pk=services.token_row(token).pk).used_at is None


def test_expired_token(people: dict[str, Any], case: Case, settings: Any) -> None:
    token = token_of(services.rating_url_for_case(case))
    row = services.token_row(token)
    lifetime = row.expires_at - row.created_at
    assert abs(lifetime - dt.timedelta(days=settings.RATINGS_TOKEN_DAYS)) < dt.timedelta(seconds=1)
    RatingToken.objects.filter(pk=row.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    with pytest.raises(Conflict) as info:
        services.rate_by_token(token, level=1)
    assert info.value.code == "ratings.token_expired"
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: "x" + t,  # payload changed
        lambda t: t.split(":")[0],  # no signature
        lambda t: "",
        lambda t: "not a token",
        lambda t: t * 5,  # too long
    ],
)
def test_tampered_token_is_refused(people: dict[str, Any], case: Case, mutate: Any) -> None:
    token = token_of(services.rating_url_for_case(case))
    with pytest.raises(ValidationError) as info:
        services.rate_by_token(mutate(token), level=1)
    assert info.value.code == "ratings.token_invalid"
    assert not Rating.objects.exists()


def test_signed_token_with_the_wrong_nonce_is_refused(people: dict[str, Any], case: Case) -> None:
    """Knowing the id is not enough: the nonce must match the row's digest."""
    row = services.token_row(token_of(services.rating_url_for_case(case)))
    forged = signing.Signer(salt=services.TOKEN_SALT).sign_object({"t": row.pk, "n": "guess"})
    with pytest.raises(ValidationError):
        services.rate_by_token(forged, level=1)
    other_salt = signing.Signer(salt="other").sign_object({"t": row.pk, "n": "guess"})
    with pytest.raises(ValidationError):
        services.token_row(other_salt)


def test_acceptance_notice_url_rates_the_visit(people: dict[str, Any]) -> None:
    """J7: the 受理通知书 QR rates the service at the window (一次一评), even before 办结."""
    case = cases.accept(people["clerk"], submitted(people), opinion="受理")
    token = token_of(services.rating_url_for_case(case, people["clerk"]))
    row = services.token_row(token)
    assert row.issued_by == f"user:{people['clerk'].pk}"
    assert row.kind == RatingKind.VISIT
    assert row.visit_reference == f"{case.number}/accept"
    assert row.case == case
    rating = services.rate_by_token(token, level=1)
    assert rating.kind == RatingKind.VISIT
    assert rating.department == people["market"]
    assert rating.item_id == case.item_id
    # The case itself can still be rated once decided (一事一评).
    assert not Rating.objects.filter(kind=RatingKind.CASE).exists()
    # A reprinted notice gets a fresh token, but the visit is rated already.
    again = token_of(services.rating_url_for_case(case))
    with pytest.raises(Conflict) as info:
        services.rate_by_token(again, level=5, text="x")
    assert info.value.code == "ratings.already_rated"


def test_clerk_issues_visit_tokens(people: dict[str, Any]) -> None:
    row, token = services.issue_visit_token(
        people["clerk"],
        department=people["market"],
        visit_reference="A023",
        item_code="GG00012002-3-511600-11511600511600040M-01",
        channel=Channel.HALL_TABLET,
    )
    assert row.issued_by == f"user:{people['clerk'].pk}"
    rating = services.rate_by_token(token, level=2)
    assert rating.channel == Channel.HALL_TABLET
    assert rating.visit_reference == "A023"
    assert rating.item is not None
    with pytest.raises(Conflict):
        services.issue_visit_token(
            people["clerk"], department=people["market"], visit_reference="A023"
        )
    generated, _ = services.issue_visit_token(people["clerk"], department=people["market"])
    assert generated.visit_reference.startswith("V")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"visit_reference": "排队号1"}, "ratings.visit_reference"),
        ({"visit_reference": "a" * 65}, "ratings.visit_reference"),
        ({"channel": "1"}, "ratings.channel"),
        ({"item_code": "XK00012001-3-511600-11511600511600040M-01x"}, "ratings.item_unknown"),
    ],
)
def test_visit_token_input(people: dict[str, Any], kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(ZwfwError) as info:
        services.issue_visit_token(people["clerk"], department=people["market"], **kwargs)
    assert info.value.code == code
    assert not RatingToken.objects.exists()


def test_only_clerks_of_the_department_issue_visit_tokens(people: dict[str, Any]) -> None:
    for who in ("person", "other_clerk", "reviewer", "supervisor", "admin"):
        with pytest.raises(PermissionDenied):
            services.issue_visit_token(people[who], department=people["market"])
    assert not RatingToken.objects.exists()
    assert not AuditRecord.objects.filter(action="ratings:token:issue").exists()


def test_open_case_token_waits_for_the_decision(people: dict[str, Any], case: Case) -> None:
    """A case token whose case is reopened-like (not rateable) reports not_yet and refuses."""
    token = token_of(services.rating_url_for_case(case))
    Case.objects.filter(pk=case.pk).update(status="in_progress", due_date=None)
    with pytest.raises(Conflict) as info:
        services.rate_by_token(token, level=1)
    assert info.value.code == "ratings.case_not_rateable"
    assert services.token_state(services.token_row(token)) == "not_yet"
    assert services.token_row(token).used_at is None


# --- concurrency (PostgreSQL: row locks and threads) ------------------------------------------


def _run_threads(*targets: Any) -> list[Any]:
    import threading

    from django.db import connection

    results: list[Any] = [None] * len(targets)
    start = threading.Barrier(len(targets))

    def runner(position: int, target: Any) -> None:
        try:
            start.wait(timeout=10)
            results[position] = target()
        except Exception as exc:  # the loser's Conflict is the result
            results[position] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


postgres_only = pytest.mark.skipif(not _postgres(), reason="row locks and threads: PostgreSQL")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_one_token_used_twice_at_once_rates_once(people: dict[str, Any]) -> None:
    from zwfw.ratings.tests.conftest import closed_case

    token = token_of(services.rating_url_for_case(closed_case(people)))
    results = _run_threads(
        lambda: services.rate_by_token(token, level=1),
        lambda: services.rate_by_token(token, level=5, text="x"),
    )
    assert sum(isinstance(r, Rating) for r in results) == 1, results
    loser = next(r for r in results if not isinstance(r, Rating))
    assert isinstance(loser, Conflict)
    assert loser.code in {"ratings.token_used"}
    assert Rating.objects.count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_tokens_of_one_case_at_once_rate_it_once(people: dict[str, Any]) -> None:
    from zwfw.ratings.tests.conftest import closed_case

    case = closed_case(people)
    first = token_of(services.rating_url_for_case(case))
    second = token_of(services.rating_url_for_case(case))
    results = _run_threads(
        lambda: services.rate_by_token(first, level=2),
        lambda: services.rate_by_token(second, level=2),
    )
    assert sum(isinstance(r, Rating) for r in results) == 1, results
    loser = next(r for r in results if not isinstance(r, Rating))
    assert isinstance(loser, Conflict)
    assert loser.code == "ratings.already_rated"
    assert Rating.objects.filter(case=case).count() == 1
    assert RatingToken.objects.filter(used_at__isnull=False).count() == 1
