"""The executive review pack: one self-contained HTML document per cycle (inline CSS and
SVG charts, no script and no external asset), to download and circulate before the meeting.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

import pandas as pd

from sop_cycle.cycles.schemas import ApprovalRead, StepRead
from sop_cycle.executive.charts import chart
from sop_cycle.presop.service import KINDS, Assembled

STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;border-bottom:2px solid #2f6db5;
padding-bottom:3px;margin-top:28px}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left}th{background:#eef2f8}
td.n{text-align:right}.muted{color:#666;font-size:12px}.high{color:#b8433a;font-weight:bold}
.medium{color:#b07a12}.ok{color:#4c9a53}.badge{display:inline-block;padding:2px 8px;
border-radius:10px;background:#eef2f8;font-size:12px}
"""


@dataclass
class PackInput:
    month: str
    scenario: str
    cycle_status: str
    generated_at: datetime
    steps: list[StepRead]
    approval: ApprovalRead | None
    done: Assembled
    decisions: list[dict[str, Any]]
    scenarios: list[dict[str, Any]]


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.1%}"


def _num(v: float | None, digits: int = 0) -> str:
    return "–" if v is None else f"{v:,.{digits}f}"


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Collection[int] = ()
) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _values(frame: pd.DataFrame, column: str) -> list[float | None]:
    if column not in frame:
        return [None] * len(frame)
    return [None if pd.isna(v) else float(v) for v in frame[column]]


def charts(months: pd.DataFrame) -> list[str]:
    labels = [str(m) for m in months["month"]] if not months.empty else []
    return [
        chart(
            "Demand vs constrained supply vs capacity",
            labels,
            bars={"Demand": _values(months, "demand"), "Supply": _values(months, "supply")},
            percent_lines={"Capacity utilisation": _values(months, "utilisation")},
            unit="units",
        ),
        chart(
            "Projected inventory vs target",
            labels,
            lines={
                "Closing stock": _values(months, "closing_stock"),
                "Target (safety stock)": _values(months, "safety_stock"),
            },
            unit="units",
        ),
        chart(
            "Financial projection vs budget",
            labels,
            bars={
                "Revenue": _values(months, "revenue"),
                "Budget": _values(months, "budget_revenue"),
            },
            lines={"Gross margin": _values(months, "gross_margin")},
            unit="currency",
        ),
    ]


def render(pack: PackInput) -> str:
    done, k = pack.done, pack.done.kpis
    if pack.approval:
        status = (
            f'<span class="badge ok">Approved by {escape(pack.approval.approved_by)} on '
            f"{pack.approval.approved_at:%Y-%m-%d %H:%M} UTC</span>"
        )
    else:
        status = f'<span class="badge">{escape(pack.cycle_status)} · awaiting approval</span>'
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>Executive S&amp;OP review {escape(pack.month)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Executive S&amp;OP review — cycle {escape(pack.month)}</h1>",
        f"<p>Scenario <b>{escape(pack.scenario)}</b> · {status} · "
        f'<span class="muted">generated {pack.generated_at:%Y-%m-%d %H:%M} UTC</span></p>',
    ]
    if done.missing or done.warnings:
        notes = [*(f"missing: {m}" for m in done.missing), *done.warnings]
        parts.append('<p class="medium">' + "<br>".join(escape(n) for n in notes) + "</p>")
    parts.append("<h2>Headline KPIs</h2>")
    parts.append(
        _table(
            [
                "Fill rate",
                "Unmet demand",
                "Revenue",
                "vs budget",
                "Gross margin",
                "Margin %",
                "Inventory value",
                "Inventory days",
                "Utilisation",
            ],
            [
                [
                    _pct(k.get("fill_rate")),
                    _num(k.get("unmet_demand")),
                    _num(k.get("revenue")),
                    _pct(k.get("revenue_vs_budget")),
                    _num(k.get("gross_margin")),
                    _pct(k.get("margin_pct")),
                    _num(k.get("inventory_value")),
                    _num(k.get("inventory_days"), 1),
                    _pct(k.get("utilisation")),
                ]
            ],
            numeric=set(range(9)),
        )
    )
    parts.append("<h2>Charts</h2>")
    parts.extend(f"<figure>{svg}</figure>" for svg in charts(done.months))
    parts.append("<h2>Open issues and proposed decisions</h2>")
    if done.issues:
        proposals = {p["issue_id"]: p for p in done.proposals}
        parts.append(
            _table(
                ["Issue", "Severity", "Months", "Detail", "Options"],
                [
                    [
                        escape(proposals[i["id"]]["topic"]),
                        f'<span class="{escape(i["severity"])}">{escape(i["severity"])}</span>',
                        escape(", ".join(i["months"][:6]) + ("…" if len(i["months"]) > 6 else "")),
                        escape(i["detail"]),
                        escape(" / ".join(proposals[i["id"]]["options"])),
                    ]
                    for i in done.issues
                ],
            )
        )
    else:
        parts.append('<p class="ok">No open issue: the plan meets its targets.</p>')
    parts.append("<h2>Decisions</h2>")
    if pack.decisions:
        parts.append(
            _table(
                ["Topic", "Options", "Chosen", "Owner", "Due", "Status"],
                [
                    [
                        escape(d["topic"]),
                        escape(" / ".join(d["options"])),
                        escape(d.get("chosen_option") or "–"),
                        escape(d.get("owner") or "–"),
                        escape(str(d.get("due_date") or "–")),
                        escape(d["status"]),
                    ]
                    for d in pack.decisions
                ],
            )
        )
    else:
        parts.append('<p class="muted">No decision recorded yet.</p>')
    parts.append("<h2>Plans</h2>")
    parts.append(
        _table(
            ["Plan", "Id", "Version", "Status"],
            [
                [kind, escape(ref.plan_id), str(ref.version), escape(ref.status)]
                if (ref := done.plans.get(kind))
                else [kind, "–", "–", "missing"]
                for kind in KINDS
            ],
        )
    )
    parts.append("<h2>Cycle steps</h2>")
    parts.append(
        _table(
            ["#", "Step", "Owner", "Due", "Status"],
            [
                [
                    str(s.seq),
                    escape(s.name),
                    escape(s.owner_user or s.owner_role),
                    s.due_date.isoformat(),
                    escape(s.status),
                ]
                for s in pack.steps
            ],
        )
    )
    if pack.scenarios:
        parts.append("<h2>Scenarios of the cycle</h2>")
        parts.append(
            _table(
                ["Code", "Name", "Parameters"],
                [
                    [escape(s["code"]), escape(s["name"]), escape(str(s["parameters"] or "—"))]
                    for s in pack.scenarios
                ],
            )
        )
    parts.append("</body></html>")
    return "".join(parts)
