"""The QR rating page (/ratings/r/<token>): a form without JavaScript, usable once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from zwfw.cases.models import Case
from zwfw.ratings import services
from zwfw.ratings.models import Rating, RectificationStatus

pytestmark = pytest.mark.django_db


def page_of(url: str) -> str:
    return "/ratings/r/" + url.split("/ratings/r/", 1)[1]


def test_rate_through_the_page(people: dict[str, Any], case: Case) -> None:
    path = page_of(services.rating_url_for_case(case))
    client = Client()
    form = client.get(path)
    assert form.status_code == 200
    html = form.content.decode()
    assert "政务服务“好差评”" in html
    assert "非常不满意" in html
    assert case.number in html
    # One QR code on the notice serves both: rating, and the progress lookup (查询密码 needed).
    assert f'href="/progress/?number={case.number}"' in html
    assert "<script" not in html.split("<main", 1)[1]  # the form needs no JavaScript
    done = client.post(
        path,
        {
            "level": "5",
            "text": "三次电话都没人接",
            "attitude": "1",
            "efficiency": "",
            "named": "1",
            "contact_name": "李娜",
            "contact_phone": "13800138000",
        },
    )
    assert done.status_code == 200
    assert "感谢您的评价" in done.content.decode()
    assert "电话回访您" in done.content.decode()
    rating = Rating.objects.get()
    assert rating.level == 5
    assert rating.attitude == 1
    assert rating.efficiency is None
    assert rating.named
    assert rating.rectification.status == RectificationStatus.VERIFYING
    # A second visit shows the code as used and offers no form; a second post changes nothing.
    again = client.get(path)
    assert "该评价码已使用" in again.content.decode()
    assert '<form method="post" class="rate"' not in again.content.decode()
    second = client.post(path, {"level": "1"})
    assert second.status_code == 409
    assert "只能评价一次" in second.content.decode()
    assert Rating.objects.get().level == 5


def test_page_shows_input_errors_and_keeps_what_was_typed(
    people: dict[str, Any], case: Case
) -> None:
    path = page_of(services.rating_url_for_case(case))
    response = Client().post(path, {"level": "4", "text": "", "contact_name": "王"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "请填写评价内容" in html
    assert 'value="王"' in html
    assert 'value="4" required checked' in html
    for level in ("9", "abc", ""):
        assert Client().post(path, {"level": level}).status_code == 400
    assert not Rating.objects.exists()


def test_page_refuses_a_tampered_token(people: dict[str, Any], case: Case) -> None:
    path = page_of(services.rating_url_for_case(case))
    response = Client().get(path[:-3] + "abc")
    assert response.status_code == 400
    assert "评价码无效" in response.content.decode()
    assert Client().post(path[:-3] + "abc", {"level": "1"}).status_code == 400
    assert Client().put(path).status_code == 405
    assert not Rating.objects.exists()
