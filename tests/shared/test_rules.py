"""`convex rules` shows the numbers the rules actually use, not copies that can drift."""

from __future__ import annotations

import pytest

from shared import battle, rules
from shared.focus import guard


def test_summary_quotes_the_constants_in_force() -> None:
    """The sleep delay, damage per second and penalty caps appear as the modules define them."""
    text = rules.summary()
    assert f"more than {guard.SLEEP_AFTER_S:g} s in a row" in text
    assert f"deals {battle.BASE_DPS:g} damage per second" in text
    assert f"-{round(battle.MAX_TOTAL_PENALTY * 100)} % in total" in text


def test_summary_follows_a_changed_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    """Changing a rule constant changes the printed rules (they are generated, not written twice)."""
    monkeypatch.setattr(guard, "SLEEP_AFTER_S", 20.0)
    assert "more than 20 s in a row" in rules.summary()
