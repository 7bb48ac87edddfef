"""Licence tests reuse the case world (departments, people, the 食品经营许可 item)."""

from zwfw.cases.tests.conftest import world  # noqa: F401

MARKET_USCC = "11511600MB0123457B"
