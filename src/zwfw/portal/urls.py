"""Pages of zwfw.portal (mounted at the site root, after every other app)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from zwfw.portal import views
from zwfw.portal.apply import apply_index, discard, draft, review, start
from zwfw.portal.mine import (
    case_detail,
    cases,
    consultations,
    materials,
    messages,
    overview,
    ratings,
)
from zwfw.portal.mine import licences as my_licences

app_name = "portal"

urlpatterns: list[URLPattern | URLResolver] = [
    # 我要查
    path("search/", views.search_page, name="search"),
    path("browse/", views.browse_page, name="browse_index"),
    path("browse/<str:dimension>/", views.browse_page, name="browse"),
    path("progress/", views.progress_page, name="progress"),
    # 我要办
    path("apply/", apply_index, name="apply_index"),
    path("apply/<str:implementation_code>/", start, name="apply"),
    path("drafts/<int:case_id>/", draft, name="draft"),
    path("drafts/<int:case_id>/review/", review, name="review"),
    path("drafts/<int:case_id>/delete/", discard, name="discard"),
    # 我要看 / 我要问 / 我要评
    path("news/", views.news_page, name="news"),
    path("ask/", views.ask_page, name="ask"),
    path("rate/", views.rate_page, name="rate"),
    # 我的
    path("my/", overview, name="my"),
    path("my/cases/", cases, name="my_cases"),
    path("my/cases/<int:case_id>/", case_detail, name="my_case"),
    path("my/materials/", materials, name="my_materials"),
    path("my/messages/", messages, name="my_messages"),
    path("my/licences/", my_licences, name="my_licences"),
    path("my/consultations/", consultations, name="my_consultations"),
    path("my/ratings/", ratings, name="my_ratings"),
]
