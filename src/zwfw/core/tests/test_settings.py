"""Settings from the environment, the README's table of them, and the start-up checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from zwfw.core import checks
from zwfw.settings import env
from zwfw.settings.base import database_config

README = Path(__file__).resolve().parents[4] / "README.md"


def test_readme_lists_every_setting_exactly() -> None:
    assert env.markdown_table() in README.read_text(encoding="utf-8"), (
        "README's configuration table is stale: paste the output of `zwfw settings_table`"
    )


def test_typed_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_LIST", "a.example, b.example ,")
    assert env.Setting("X_BOOL", bool, False, "").read() is True
    assert env.Setting("X_INT", int, 0, "").read() == 42
    assert env.Setting("X_LIST", list, [], "").read() == ["a.example", "b.example"]
    assert env.Setting("X_UNSET", int, 7, "").read() == 7
    monkeypatch.setenv("X_BAD", "maybe")
    with pytest.raises(env.SettingError, match="X_BAD: expected a boolean"):
        env.Setting("X_BAD", bool, False, "").read()
    monkeypatch.setenv("X_BAD", "4x")
    with pytest.raises(env.SettingError, match="X_BAD: expected an integer"):
        env.Setting("X_BAD", int, 0, "").read()


def test_database_urls() -> None:
    sqlite = database_config("sqlite:////tmp/x.db")
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
    assert sqlite["NAME"] == "/tmp/x.db"
    assert "journal_mode=WAL" in sqlite["OPTIONS"]["init_command"]
    assert sqlite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    pg = database_config("postgres://zwfw:secret@db.internal:5433/zwfw")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["HOST"], pg["PORT"], pg["NAME"], pg["USER"]) == (
        "db.internal",
        5433,
        "zwfw",
        "zwfw",
    )


def test_node_checks(settings) -> None:
    assert checks.node_identity() == []
    settings.NODE_LEVEL = "county"
    settings.NODE_DIVISION_CODE = "5116"
    settings.PII_KEY = "short"
    assert [e.id for e in checks.node_identity()] == ["zwfw.E001", "zwfw.E002", "zwfw.E003"]
