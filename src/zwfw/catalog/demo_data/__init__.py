"""Curated data of the demo catalogue (see :mod:`zwfw.catalog.demo` for how it is expanded).

Everything is written from the public structure of such items (names, legal bases, materials,
time limits); departments, phones and codes are the demo node's invented but valid ones. No
personal data.
"""

from __future__ import annotations

from zwfw.catalog.demo_data import (
    civil_affairs,
    construction,
    market,
    others,
    public_security,
    social_security,
)
from zwfw.catalog.demo_data.parts import Spec

SPECS: tuple[Spec, ...] = (
    *public_security.SPECS,
    *civil_affairs.SPECS,
    *market.SPECS,
    *social_security.SPECS,
    *construction.SPECS,
    *others.SPECS,
)
