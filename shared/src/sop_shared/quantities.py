"""Quantities an ERP can execute: lot sizes in whole units, and no float noise.

Supply (planned receipts and releases) and capacity (production-plan lines) send the ERP
order quantities; both use these rules, so the same item is rounded the same way whichever
service plans it.

* **Tolerance.** A quantity whose magnitude is below ``TOLERANCE`` (1e-6 units) is zero:
  solver and float noise (``4.32e-12``) is never a shortage, a line or an order.
* **Lots.** An order for a need ``q > TOLERANCE`` is ``k x multiple`` with ``k`` the
  smallest whole number such that ``k x multiple >= max(q, minimum)``: at least the
  minimum and a whole number of multiples (a minimum of 748 in lots of 50 orders 750). A
  multiple of 0 means
  whole units (multiple 1); an item sold by weight or volume gives its own fractional
  multiple (e.g. 0.001 for grams of a kilogram item). A need within ``TOLERANCE`` of a
  multiple is that multiple (``100.0000000001`` orders 100, not 101).
* **Rounding a plan after optimisation** (``round_plan``): per row, month by month, each
  month orders the lot that brings the cumulative quantity up to at least the plan's
  cumulative quantity, so what a larger lot made early is netted off later months (the MRP
  rule). The rounded plan is never later than the plan, and over the horizon it exceeds it
  by less than one lot (plus the minimum) per row.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

TOLERANCE = 1e-6
"""Quantities (units, hours) whose magnitude is below this are zero."""
_DECIMALS = 9
"""Quotients are rounded to this many decimals before ``ceil``: float noise never adds a lot."""


def snap(values: npt.ArrayLike, tolerance: float = TOLERANCE) -> FloatArray:
    """A float copy of ``values`` with every magnitude below ``tolerance`` set to 0."""
    out = np.array(values, dtype=np.float64)
    out[np.abs(out) < tolerance] = 0.0
    return out


def effective_multiple(multiple: npt.ArrayLike) -> FloatArray:
    """The multiple orders are rounded to: the item's, or 1 (whole units) where it has none."""
    arr = np.asarray(multiple, dtype=np.float64)
    return np.where(np.isfinite(arr) & (arr > 0), arr, 1.0)


def lot_size(
    need: npt.ArrayLike, minimum: npt.ArrayLike = 0.0, multiple: npt.ArrayLike = 0.0
) -> FloatArray:
    """The order covering each ``need`` (element-wise, numpy broadcasting): 0 for a need
    within the tolerance, else the need rounded up to the multiple, at least the minimum."""
    q = np.asarray(need, dtype=np.float64)
    step = effective_multiple(multiple)
    wanted = np.maximum(q, np.nan_to_num(np.asarray(minimum, dtype=np.float64), nan=0.0))
    lots = np.ceil(np.round(wanted / step, _DECIMALS)) * step
    lots = np.round(lots, _DECIMALS)  # 3 x 0.1 is 0.3, not 0.30000000000000004
    return np.where(q > TOLERANCE, lots, 0.0)


def lot_size_down(
    need: npt.ArrayLike, minimum: npt.ArrayLike = 0.0, multiple: npt.ArrayLike = 0.0
) -> FloatArray:
    """The largest order not above each ``need``: the need rounded down to the multiple, 0
    when that is below the minimum (the rest waits for a later month's need)."""
    q = np.asarray(need, dtype=np.float64)
    step = effective_multiple(multiple)
    lots = np.round(np.floor(np.round(q / step, _DECIMALS)) * step, _DECIMALS)
    low = np.nan_to_num(np.asarray(minimum, dtype=np.float64), nan=0.0)
    return np.where((q > TOLERANCE) & (lots >= low - TOLERANCE) & (lots > 0), lots, 0.0)


def round_plan(
    quantity: npt.ArrayLike,
    minimum: npt.ArrayLike = 0.0,
    multiple: npt.ArrayLike = 0.0,
    down: npt.ArrayLike = False,
) -> FloatArray:
    """Round a [N, T] plan to lots, row by row, netting larger lots off later months.

    ``minimum`` and ``multiple`` are per row ([N] or a scalar). Rows where ``down`` is true
    never run ahead of the plan (cumulative orders at most the plan's, e.g. a product whose
    purchased material binds: more, or earlier, would use material that is not there); the
    others never fall behind it. Vectorised over rows; the loop runs over months only (month
    t's order depends on what months before it ordered).
    """
    plan = np.asarray(quantity, dtype=np.float64)
    if plan.ndim != 2:
        raise ValueError(f"quantity: expected [N, T], got shape {plan.shape}")
    n, t = plan.shape
    low = np.broadcast_to(np.asarray(minimum, dtype=np.float64), (n,))
    step = np.broadcast_to(np.asarray(multiple, dtype=np.float64), (n,))
    wanted = np.cumsum(plan, axis=1)
    out = np.zeros((n, t))
    ordered = np.zeros(n)
    below = np.broadcast_to(np.asarray(down, dtype=bool), (n,))
    for month in range(t):
        need = wanted[:, month] - ordered
        out[:, month] = np.where(below, lot_size_down(need, low, step), lot_size(need, low, step))
        ordered += out[:, month]
    return out


def is_lot(
    quantity: npt.ArrayLike, minimum: npt.ArrayLike, multiple: npt.ArrayLike
) -> npt.NDArray[np.bool_]:
    """Whether each quantity is an executable order: 0, or at least the minimum and a whole
    number of multiples (whole units without one), within the tolerance."""
    q = np.asarray(quantity, dtype=np.float64)
    step = effective_multiple(multiple)
    k = q / step
    whole = np.abs(k - np.round(k)) <= TOLERANCE
    low = np.asarray(minimum, dtype=np.float64)
    return (q == 0) | (whole & (q >= low - TOLERANCE))
