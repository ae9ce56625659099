"""The calendar of due dates and the step rules, by hand-worked examples."""

from __future__ import annotations

from datetime import date

import pytest

from sop_cycle.cycles.calendar import due_dates, month_bounds, previous_month, shift_month
from sop_cycle.cycles.workflow import StepStatus, consumer_steps, effective_status, is_overdue
from sop_cycle.settings import CycleSettings

DEFAULT_DAYS = CycleSettings().step_working_days


class TestDueDates:
    def test_december_2026_working_days(self) -> None:
        # Dec 2026 starts on a Tuesday: working days 1-4 = Dec 1-4, 5-9 = Dec 7-11,
        # 10-14 = Dec 14-18, 15-19 = Dec 21-25.
        due = due_dates("2026-12", DEFAULT_DAYS)
        assert due == {
            "data_gathering": date(2026, 12, 3),
            "product_review": date(2026, 12, 8),
            "demand_review": date(2026, 12, 11),
            "supply_review": date(2026, 12, 16),
            "production_review": date(2026, 12, 21),
            "pre_sop": date(2026, 12, 23),
            "executive_sop": date(2026, 12, 25),
        }

    def test_holidays_push_the_due_date(self) -> None:
        # With Christmas off, working day 19 moves from Fri 25th to Mon 28th.
        due = due_dates("2026-12", DEFAULT_DAYS, holidays=[date(2026, 12, 25)])
        assert due["executive_sop"] == date(2026, 12, 28)
        assert due["pre_sop"] == date(2026, 12, 23)

    def test_month_starting_on_a_weekend(self) -> None:
        # Feb 2026 starts on a Sunday: working day 1 is Mon 2nd, day 3 is Wed 4th.
        assert due_dates("2026-02", {"x": 1, "y": 3}) == {
            "x": date(2026, 2, 2),
            "y": date(2026, 2, 4),
        }

    def test_day_beyond_the_month_falls_on_its_last_working_day(self) -> None:
        # Feb 2026 has 20 working days; day 23 is clamped to Fri 27th.
        assert due_dates("2026-02", {"x": 23})["x"] == date(2026, 2, 27)

    def test_settings_refuse_a_missing_step(self) -> None:
        with pytest.raises(ValueError, match="step_working_days lacks"):
            CycleSettings(step_working_days={"data_gathering": 3})


class TestMonths:
    def test_shift_and_bounds(self) -> None:
        assert previous_month("2026-01") == "2025-12"
        assert shift_month("2026-11", 3) == "2027-02"
        assert month_bounds("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))


class TestStatus:
    due = date(2026, 12, 3)

    @pytest.mark.parametrize(
        ("stored", "today", "shown", "late"),
        [
            ("not_started", date(2026, 12, 3), "not_started", False),  # due today: not late
            ("not_started", date(2026, 12, 4), "overdue", True),
            ("in_progress", date(2026, 12, 4), "overdue", True),
            ("ready", date(2026, 12, 4), "overdue", True),
            ("completed", date(2026, 12, 31), "completed", False),
            ("stale", date(2026, 12, 4), "stale", True),  # stale wins, the flag still says late
        ],
    )
    def test_overdue_against_today(self, stored: str, today: date, shown: str, late: bool) -> None:
        assert effective_status(stored, self.due, today) == StepStatus(shown)
        assert is_overdue(stored, self.due, today) is late

    def test_which_steps_rest_on_which_plan(self) -> None:
        # a plan's own review step rests on it too (a newer one reopens it)
        assert consumer_steps("demand", "submitted") == (
            "demand_review",
            "supply_review",
            "production_review",
            "pre_sop",
            "executive_sop",
        )
        assert consumer_steps("supply", "unconstrained")[:2] == (
            "supply_review",
            "production_review",
        )
        # the constrained answer to the production plan only concerns what comes after
        assert consumer_steps("supply", "constrained") == ("pre_sop", "executive_sop")
        assert consumer_steps("production", "optimal") == (
            "production_review",
            "pre_sop",
            "executive_sop",
        )
