"""Regular available hours per resource and month from a shift calendar.

Kept separate from the LP so the API can show planners where capacity numbers come from.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sop_capacity.planning.lp import PlanningInputError, PlanningIssue

FloatArray = NDArray[np.float64]
ArrayLike = float | list[float] | list[list[float]] | FloatArray


def _per_resource(value: ArrayLike, name: str) -> FloatArray:
    """Scalar, [R] (one value per resource, all months) or [R,T]."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim > 2:
        raise PlanningInputError(
            [PlanningIssue(None, None, f"{name} must be scalar, [R] or [R,T]")]
        )
    return arr[:, None] if arr.ndim == 1 else arr


def available_hours(
    working_days: ArrayLike,
    shifts: ArrayLike = 1.0,
    hours_per_shift: ArrayLike = 8.0,
    efficiency: ArrayLike = 1.0,
    maintenance_hours: ArrayLike = 0.0,
    *,
    n_resources: int | None = None,
) -> FloatArray:
    """shifts x hours_per_shift x working_days x efficiency - maintenance, floored at 0.

    ``working_days`` is [T] (same calendar for every resource) or [R,T]; the other arguments
    are scalars, [R] or [R,T]. ``n_resources`` sets R when no argument carries it. Returns
    [R,T]. Maintenance longer than the month's hours gives 0, never a negative capacity.
    """
    days = np.asarray(working_days, dtype=np.float64)
    if days.ndim not in (1, 2):
        raise PlanningInputError([PlanningIssue(None, None, "working_days must be [T] or [R,T]")])
    days = days[None, :] if days.ndim == 1 else days
    parts = {
        "working_days": days,
        "shifts": _per_resource(shifts, "shifts"),
        "hours_per_shift": _per_resource(hours_per_shift, "hours_per_shift"),
        "efficiency": _per_resource(efficiency, "efficiency"),
        "maintenance_hours": _per_resource(maintenance_hours, "maintenance_hours"),
    }
    issues: list[PlanningIssue] = []
    for name, arr in parts.items():
        for idx in np.argwhere(~np.isfinite(arr) | (arr < 0))[:20]:
            r = int(idx[0]) if arr.ndim == 2 and arr.shape[0] > 1 else None
            t = int(idx[1]) if arr.ndim == 2 and arr.shape[1] > 1 else None
            issues.append(
                PlanningIssue(r, t, f"{name} must be finite and >= 0, got {arr[tuple(idx)]}")
            )
    if issues:
        raise PlanningInputError(issues)
    try:
        b = np.broadcast_arrays(*parts.values())
    except ValueError as exc:
        shapes = {k: v.shape for k, v in parts.items()}
        raise PlanningInputError(
            [PlanningIssue(None, None, f"calendar inputs do not line up: {shapes}")]
        ) from exc
    gross = b[1] * b[2] * b[0] * b[3]
    hours = np.maximum(gross - b[4], 0.0)
    if n_resources is not None and hours.shape[0] != n_resources:
        if hours.shape[0] != 1:
            raise PlanningInputError(
                [
                    PlanningIssue(
                        None, None, f"inputs give {hours.shape[0]} resources, not {n_resources}"
                    )
                ]
            )
        hours = np.repeat(hours, n_resources, axis=0)
    return np.asarray(hours, dtype=np.float64)
