"""S&OP step 5 production planning: LP, chase/level heuristics, rough-cut capacity."""

from sop_capacity.planning.calendar import available_hours
from sop_capacity.planning.heuristics import AggregatePlan, AggregateProblem, chase, level
from sop_capacity.planning.lp import (
    CostBreakdown,
    LabourPool,
    Method,
    PlanningInfeasibleError,
    PlanningInputError,
    PlanningIssue,
    PlanningProblem,
    PlanningSolveError,
    PlanResult,
    check_problem,
    describe_status,
    solve_plan,
)
from sop_capacity.planning.rccp import (
    Contributor,
    Overload,
    RccpResult,
    preferred_methods,
    rough_cut,
)

__all__ = [
    "AggregatePlan",
    "AggregateProblem",
    "Contributor",
    "CostBreakdown",
    "LabourPool",
    "Method",
    "Overload",
    "PlanResult",
    "PlanningInfeasibleError",
    "PlanningInputError",
    "PlanningIssue",
    "PlanningProblem",
    "PlanningSolveError",
    "RccpResult",
    "available_hours",
    "chase",
    "check_problem",
    "describe_status",
    "level",
    "preferred_methods",
    "rough_cut",
    "solve_plan",
]
