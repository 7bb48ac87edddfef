"""Pages of zwfw.workbench (工作台), mounted at ``/workbench/``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from zwfw.workbench import views_cases, views_catalog, views_window

app_name = "workbench"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_cases.inbox, name="inbox"),
    path("tasks/<int:task_id>/claim/", views_cases.task_claim, name="task_claim"),
    path("tasks/<int:task_id>/release/", views_cases.task_release, name="task_release"),
    path("tasks/<int:task_id>/act/", views_cases.task_act, name="task_act"),
    path("cases/", views_cases.case_search, name="cases"),
    path("cases/<str:ref>/", views_cases.case_detail, name="case"),
    path("cases/<str:ref>/act/", views_cases.case_act, name="case_act"),
    path("cases/<str:ref>/correction/", views_cases.correction_builder, name="correction"),
    path(
        "cases/<str:ref>/materials/<int:material_id>/",
        views_cases.material_file,
        name="material_file",
    ),
    path("cases/<str:ref>/notices/<int:notice_id>/", views_cases.notice_pdf, name="notice_pdf"),
    path("window/", views_window.window_start, name="window"),
    path("window/<int:case_id>/", views_window.window_case, name="window_case"),
    path("catalog/", views_catalog.items, name="items"),
    path("catalog/items/<str:code>/edit/", views_catalog.item_edit, name="item_edit"),
    path("catalog/items/<str:code>/versions/", views_catalog.item_versions, name="item_versions"),
    path("catalog/items/<str:code>/diff/", views_catalog.item_diff, name="item_diff"),
    path("catalog/items/<str:code>/status/", views_catalog.item_status, name="item_status"),
    path("catalog/changes/", views_catalog.changes, name="changes"),
    path("catalog/changes/<int:change_id>/", views_catalog.change_detail, name="change"),
    path("catalog/changes/<int:change_id>/act/", views_catalog.change_act, name="change_act"),
    path("catalog/import/", views_catalog.import_items, name="import"),
]
