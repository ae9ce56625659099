"""The pre-S&OP arithmetic on a hand-worked company (builders.py: families A and B).

Worked by hand:
    unmet = 20 (A, Jan); demand = 100+200+50+50 = 400 → fill rate = 380/400 = 0.95
    revenue = 1000 + 2000·180/200 + 1500 + 1500 = 5800 (planned 6000)
    unit cost A = (240+120)/(40+20) = 6; B = (200+200)/(10+10) = 20
    COGS = 100·6 + 180·6 + 50·20 + 50·20 = 600 + 1080 + 1000 + 1000 = 3680
    margin = 5800 − 3680 = 2120 (36.55 %)
    inventory value by month = 440, 320 → average 380; days = 380 / (3680 / 60.8) = 6.278
    utilisation = (80+110+50+60) / 400 = 0.75, peak 1.10
    budget revenue = 6300 → −7.94 %; budget quantity 410 → −2.44 %
"""

from __future__ import annotations

import pytest

from sop_cycle.presop import analysis
from sop_cycle.presop.sources import build_sources

from ..builders import capacity_summary, contract_review, demand_summary, supply_summary


def _run(demand=None, supply=None, capacity=None, contracts=None):  # type: ignore[no-untyped-def]
    sources = build_sources(
        {
            "demand": demand if demand is not None else demand_summary(),
            "supply": supply if supply is not None else supply_summary(),
            "production": capacity if capacity is not None else capacity_summary(),
            "contracts": contracts if contracts is not None else contract_review(),
        }
    )
    recon = analysis.reconcile(sources)
    util = analysis.utilisation(sources, 1.0)
    months = analysis.by_month(recon, util)
    figures = analysis.kpis(recon, util, months)
    issues, proposals = analysis.issues_and_proposals(
        recon, util, sources, figures, analysis.Thresholds()
    )
    return sources, recon, util, months, figures, issues, proposals


def test_kpis_match_the_hand_worked_numbers() -> None:
    *_, figures, _, _ = _run()
    assert figures["demand_quantity"] == 400
    assert figures["unmet_demand"] == 20
    assert figures["fill_rate"] == pytest.approx(0.95)
    assert figures["planned_revenue"] == 6000
    assert figures["revenue"] == pytest.approx(5800)
    assert figures["cogs"] == pytest.approx(3680)
    assert figures["gross_margin"] == pytest.approx(2120)
    assert figures["margin_pct"] == pytest.approx(2120 / 5800)
    assert figures["inventory_value"] == pytest.approx(380)
    assert figures["inventory_value_end"] == pytest.approx(320)
    assert figures["inventory_days"] == pytest.approx(380 * 60.8 / 3680)
    assert figures["utilisation"] == pytest.approx(0.75)
    assert figures["peak_utilisation"] == pytest.approx(1.10)
    assert figures["revenue_vs_budget"] == pytest.approx(5800 / 6300 - 1)
    assert figures["quantity_vs_budget"] == pytest.approx(400 / 410 - 1)
    assert figures["budget_coverage"] == 1.0


def test_budget_is_compared_only_where_there_is_one() -> None:
    # a budget for January only: revenue A 2000 × 180/200 = 1800 + B 1500 = 3300 against
    # 1900 + 1800 = 3700; demand 200 + 50 = 250 against 190 + 60 = 250. December's revenue
    # (1000 + 1500) is not set against an absent budget (it gave 5800 / 3700 − 1 = +57 %).
    demand = demand_summary()
    for item in demand["items"]:
        if item["month"] == "2026-12":
            item["budget_quantity"] = item["budget_revenue"] = None
    *_, figures, _, _ = _run(demand=demand)
    assert figures["budget_revenue"] == 3700
    assert figures["revenue_vs_budget"] == pytest.approx(3300 / 3700 - 1)
    assert figures["quantity_vs_budget"] == pytest.approx(0.0)
    assert figures["budget_coverage"] == 0.5


def test_family_month_rows_and_monthly_totals() -> None:
    _, recon, _, months, *_ = _run()
    a_jan = recon[(recon.family == "A") & (recon.month == "2027-01")].iloc[0]
    assert (a_jan.demand, a_jan.supply, a_jan.unmet) == (200, 180, 20)
    assert a_jan.fill_rate == pytest.approx(0.9)
    assert a_jan.cogs == pytest.approx(1080)
    jan = months[months.month == "2027-01"].iloc[0]
    assert jan.demand == 250
    assert jan.fill_rate == pytest.approx(230 / 250)
    assert jan.utilisation == pytest.approx(170 / 200)
    assert jan.inventory_value == 320


def test_issues_and_their_proposed_decisions() -> None:
    *_, issues, proposals = _run()
    assert [(i["type"], i["subject"]) for i in issues] == [
        ("shortage", "A"),
        ("bottleneck", "L1"),  # flagged by the numbers and by capacity: listed once
        ("inventory_below_target", "A"),
        ("contract", "C-7"),
        ("budget_gap", "revenue"),
    ]
    shortage = issues[0]
    assert shortage["months"] == ["2027-01"]
    assert shortage["value"] == 20
    assert "revenue at risk 200" in shortage["detail"]
    assert issues[2]["value"] == 10  # 30 target − 20 projected
    assert proposals[1]["topic"] == "Overload of L1"
    assert "Approve overtime on L1" in proposals[1]["options"]
    assert {p["issue_id"] for p in proposals} == {i["id"] for i in issues}


def test_a_plan_meeting_every_target_has_no_issue() -> None:
    demand = demand_summary()
    for row in demand["items"]:
        row["budget_revenue"] = row["revenue"]
    supply = supply_summary(shortage_jan_a=0)
    supply["rows"][1]["closing_stock"] = 40
    capacity = capacity_summary(jan_load_l1=95)
    capacity["bottlenecks"] = []
    contracts = contract_review()
    contracts["items"][0]["status"] = "ok"
    *_, figures, issues, _ = _run(demand, supply, capacity, contracts)
    assert figures["fill_rate"] == 1.0
    assert issues == []


def test_missing_measures_degrade_gracefully() -> None:
    # supply without shortage: unmet is demand − supply; utilisation given in percent
    supply = supply_summary()
    for row in supply["rows"]:
        del row["shortage"]
    capacity = {
        "rows": [
            {"resource": "L1", "month": "2026-12", "utilization": 87.5, "available_hours": 200}
        ]
    }
    _, recon, util, _, figures, _, _ = _run(supply=supply, capacity=capacity)
    assert figures["unmet_demand"] == 20
    assert util.iloc[0].utilisation == pytest.approx(0.875)
    assert util.iloc[0].load_hours == pytest.approx(175)


def test_what_the_peers_documents_add() -> None:
    sources, *_ = _run()
    assert sources.exceptions == {"stockout": 1, "below_safety_stock": 1, "contract_under_use": 1}
    (issue,) = sources.contract_issues  # C-8 is within its committed volume
    assert issue["contract"] == "C-7"
    assert issue["gap"] == 500
    assert sources.overtime == {"total_hours": 10, "cost": 300}
    assert sources.unmet["backordered_unit_months"] == 20
    assert sources.unmet["items"][0]["reason"] == "L1 at its limit in 2027-01"
    assert sources.capacity_costs == {"production": 5000.0, "overtime": 300.0}


def test_backlog_counts_once_per_month_at_most_the_month_demand() -> None:
    # supply reports shortage as the backlog at month end: 20 in Jan carried to a third
    # month where A demands 10. On-time unmet there is min(10, 20) = 10, not 20.
    demand = demand_summary()
    demand["items"].append({"family": "A", "month": "2027-02", "quantity": 10, "revenue": 100})
    supply = supply_summary()
    supply["rows"].append({"family": "A", "month": "2027-02", "demand": 10, "shortage": 20})
    *_, figures, _, _ = _run(demand=demand, supply=supply)
    assert figures["unmet_demand"] == 30
    assert figures["fill_rate"] == pytest.approx(1 - 30 / 410)


def test_unavailable_summary_is_a_warning_not_an_error() -> None:
    sources = build_sources({"demand": demand_summary(), "supply": "supply: connection refused"})
    assert sources.warnings == ["supply summary unavailable: supply: connection refused"]
    recon = analysis.reconcile(sources)
    # without supply every unit counts as met (nothing says otherwise)
    assert recon["unmet"].sum() == 0


def test_material_families_add_stock_but_no_customer_demand() -> None:
    supply = supply_summary()
    supply["rows"].append(
        {
            "family": "PACKAGING",
            "month": "2026-12",
            "demand": 500,
            "supply": 400,
            "shortage": 0,
            "closing_stock": 1000,
            "inventory_value": 60,
            "safety_stock": 0,
        }
    )
    _, recon, _, months, figures, _, _ = _run(supply=supply)
    assert figures["demand_quantity"] == 400  # the 500 units of packaging are not sold
    assert figures["unmet_demand"] == 20
    assert months[months.month == "2026-12"].iloc[0].inventory_value == 440 + 60
    assert recon[recon.family == "PACKAGING"].iloc[0].supply == 0


def test_binding_resources_reported_by_capacity_are_one_issue_each() -> None:
    capacity = capacity_summary(jan_load_l1=100)  # L1 exactly at its limit: not overloaded
    capacity["bottlenecks"] = [
        {"resource": "L1", "month": "2027-01", "limit": "machine", "utilisation": 1.0},
        {"resource": "L1", "month": "2026-12", "limit": "machine", "utilisation": 0.99},
        {"resource": "POOL", "month": "2027-01", "limit": "crew", "utilisation": None},
    ]
    *_, issues, _ = _run(capacity=capacity)
    found = {i["subject"]: i for i in issues if i["type"] == "bottleneck"}
    assert set(found) == {"L1", "POOL"}
    assert found["L1"]["months"] == ["2026-12", "2027-01"]
    assert found["L1"]["detail"] == "at its machine limit in 2 month(s)"
    assert found["POOL"]["value"] == 0.0


def test_no_plan_at_all_gives_empty_numbers() -> None:
    from sop_cycle.presop.sources import Sources

    sources = Sources()
    recon = analysis.reconcile(sources)
    util = analysis.utilisation(sources, 1.0)
    figures = analysis.kpis(recon, util, analysis.by_month(recon, util))
    assert figures["demand_quantity"] == 0
    assert figures["fill_rate"] == 1.0
    assert figures["utilisation"] is None


def test_supply_without_a_demand_summary_counts_its_demand() -> None:
    sources = build_sources({"supply": supply_summary()})
    recon = analysis.reconcile(sources)
    assert recon["demand"].sum() == 400
