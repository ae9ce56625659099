"""Safety-stock policies and forward-demand cover, vectorised over item-sites × months.

Shapes: per item-site arrays are ``[N]``, time-phased arrays are ``[N, T]`` (months). A 1-D
argument is always read as per item-site and broadcast across the months, so an item-site's
parameter never gets silently aligned with the month axis.

Every policy returns a non-negative ``[N, T]`` float array: a negative safety stock has no
meaning for netting (it would plan stock-outs on purpose), so results are clipped at zero.

References:
- [SPT] Silver, Pyke & Thomas, *Inventory and Production Management in Supply Chains*,
  4th ed., CRC Press 2017, ch. "Individual Items with Probabilistic Demand".
- [CM] Chopra & Meindl, *Supply Chain Management: Strategy, Planning, and Operation*,
  Pearson, ch. "Managing Uncertainty in a Supply Chain: Safety Inventory" (safety inventory
  for a target cycle service level, with and without lead-time uncertainty) and
  ch. "Managing Economies of Scale in a Supply Chain: Cycle Inventory".
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

DAYS_PER_MONTH = 30.4
"""Average days per month (365 / 12, rounded as planners quote it)."""

_STANDARD_NORMAL = NormalDist()


def per_cell(value: npt.ArrayLike, n: int, t: int, name: str) -> FloatArray:
    """Broadcast a scalar, ``[N]`` or ``[N, T]`` argument to ``[N, T]`` (read-only view).

    1-D input is per item-site: it must have length N and is repeated over the months.
    """
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 1:
        if arr.shape[0] != n:
            raise ValueError(f"{name}: expected {n} item-sites, got shape {arr.shape}")
        arr = arr[:, None]
    try:
        return np.broadcast_to(arr, (n, t))
    except ValueError:
        raise ValueError(f"{name}: shape {arr.shape} does not fit [{n}, {t}]") from None


def _check_demand(demand: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(demand, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"demand: expected [N, T], got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError("demand: the horizon must have at least one month")
    if not np.isfinite(arr).all():
        raise ValueError("demand: contains NaN or infinite values")
    return arr


def _check_nonneg(arr: FloatArray, name: str, *, allow_inf: bool = False) -> None:
    bad = np.isnan(arr) | (arr < 0)
    if not allow_inf:
        bad |= np.isinf(arr)
    if bad.any():
        raise ValueError(f"{name}: must be finite and >= 0")


def forward_demand(demand: npt.ArrayLike, months: npt.ArrayLike) -> FloatArray:
    """Demand of the ``months`` months after each month t: months t+1 .. t+months.

    This is what the stock at the *end* of month t has to cover. ``months`` may be
    fractional (a fraction of the next month's demand is taken pro rata) and per item-site
    ``[N]`` or per cell ``[N, T]``. Months beyond the horizon are assumed to repeat the last
    horizon month's demand (flat extrapolation), so covers near the end of the horizon are
    not understated by a truncated window.
    """
    d = _check_demand(demand)
    n, t = d.shape
    m = per_cell(months, n, t, "months")
    _check_nonneg(m, "months")
    # g[:, k] = demand of months 0 .. k-1 (cumulative to the start of month k), k = 0 .. T.
    g = np.zeros((n, t + 1))
    np.cumsum(d, axis=1, out=g[:, 1:])
    last = d[:, -1:]
    end = np.arange(1, t + 1, dtype=np.float64)[None, :] + m  # position t+1+months
    k = np.floor(end)
    frac = end - k
    k_int = k.astype(np.int64)
    inside = np.minimum(k_int, t)
    g_end = np.take_along_axis(g, inside, axis=1)
    g_end += np.maximum(k - t, 0.0) * last
    # Pro-rata part of month k (the last horizon month stands in for months beyond it).
    g_end += frac * np.take_along_axis(d, np.minimum(k_int, t - 1), axis=1)
    return g_end - g[:, 1:]


def days_of_supply(
    stock: npt.ArrayLike,
    demand: npt.ArrayLike,
    *,
    window_months: float = 3.0,
    days_per_month: float = DAYS_PER_MONTH,
) -> FloatArray:
    """Days the stock at the end of month t lasts at the average daily forward demand.

    Average daily forward demand = demand of months t+1 .. t+window / (window × days per
    month), extrapolated flat beyond the horizon (see ``forward_demand``). Conventions:
    stock <= 0 gives 0 days (the shortage is reported elsewhere); positive stock with no
    forward demand gives ``inf`` (serialisers should map it to null or a cap).
    """
    if window_months <= 0:
        raise ValueError("window_months must be > 0")
    d = _check_demand(demand)
    s = per_cell(stock, d.shape[0], d.shape[1], "stock")
    daily = forward_demand(d, window_months) / (window_months * days_per_month)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dos = np.where(daily > 0, s / np.where(daily > 0, daily, 1.0), np.inf)
    return np.where(s <= 0, 0.0, dos)


def fixed_quantity(quantity: npt.ArrayLike, n: int, t: int) -> FloatArray:
    """Fixed safety stock per item-site (or per cell), as set by the planner.

    SS = Q. The simplest policy [SPT]; right for slow movers or new items without history.
    """
    q = np.array(per_cell(quantity, n, t, "quantity"))
    if np.isnan(q).any() or np.isinf(q).any():
        raise ValueError("quantity: must be finite")
    return np.maximum(q, 0.0)


def months_of_cover(demand: npt.ArrayLike, months: npt.ArrayLike) -> FloatArray:
    """Time-supply safety stock: cover the forward demand of the next ``months`` months.

    SS[t] = Σ demand[t+1 .. t+months] (fractional months pro rata, flat beyond the horizon).
    This is the "time supply" rule [SPT]: it follows seasonality in the plan but carries no
    notion of forecast error, so it over-protects stable items and under-protects erratic ones.
    """
    return np.maximum(forward_demand(demand, months), 0.0)


def days_of_cover(
    demand: npt.ArrayLike, days: npt.ArrayLike, *, days_per_month: float = DAYS_PER_MONTH
) -> FloatArray:
    """Time-supply safety stock in days: ``months_of_cover`` with days / days-per-month."""
    return months_of_cover(demand, np.asarray(days, dtype=np.float64) / days_per_month)


def z_value(cycle_service_level: npt.ArrayLike) -> FloatArray:
    """Safety factor z = Φ⁻¹(CSL), the standard normal inverse CDF, element-wise.

    Uses ``statistics.NormalDist`` (no SciPy dependency); evaluated once per distinct CSL,
    since a plan rarely has more than a handful of service-level classes.
    """
    csl = np.asarray(cycle_service_level, dtype=np.float64)
    if np.isnan(csl).any() or ((csl <= 0) | (csl >= 1)).any():
        raise ValueError("cycle_service_level: must lie strictly between 0 and 1")
    levels, inverse = np.unique(csl, return_inverse=True)
    z = np.array([_STANDARD_NORMAL.inv_cdf(float(p)) for p in levels], dtype=np.float64)
    return z[inverse].reshape(csl.shape)


def statistical(
    cycle_service_level: npt.ArrayLike,
    *,
    mean_demand: npt.ArrayLike,
    demand_std: npt.ArrayLike,
    lead_time: npt.ArrayLike,
    lead_time_std: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Safety stock for a target cycle service level under demand and lead-time uncertainty.

    SS = z(CSL) × σ_LT,  σ_LT = √(L·σ_d² + d̄²·σ_L²)   [CM], [SPT]

    with d̄ the mean demand per period, σ_d its standard deviation (use the forecast-error
    std when planning against a forecast), L the mean lead time and σ_L its standard
    deviation, all in the *same* period unit. Demand and lead time are assumed independent
    and demand over the lead time approximately normal. CSL <= 0.5 gives z <= 0 and so a
    safety stock of 0 (clipped). Arguments broadcast element-wise (numpy rules).
    """
    z = z_value(cycle_service_level)
    d = np.asarray(mean_demand, dtype=np.float64)
    sd = np.asarray(demand_std, dtype=np.float64)
    lt = np.asarray(lead_time, dtype=np.float64)
    slt = np.asarray(lead_time_std, dtype=np.float64)
    for arr, name in ((sd, "demand_std"), (lt, "lead_time"), (slt, "lead_time_std")):
        _check_nonneg(arr, name)
    if not np.isfinite(d).all():
        raise ValueError("mean_demand: must be finite")
    sigma = np.sqrt(lt * sd**2 + d**2 * slt**2)
    return np.asarray(np.maximum(z * sigma, 0.0), dtype=np.float64)


def cycle_stock(
    demand: npt.ArrayLike,
    *,
    moq: npt.ArrayLike = 0.0,
    lot_multiple: npt.ArrayLike = 0.0,
    order_cycle_months: npt.ArrayLike = 1.0,
) -> FloatArray:
    """Typical lot arriving after month t: max(MOQ, lot multiple, forward demand of a cycle).

    With one replenishment every ``order_cycle_months`` the lot is that period's forward
    demand, unless the MOQ or the lot multiple forces a bigger one. This is the Q of the
    cycle-inventory chapter of [CM]: stock swings between SS and SS + Q (average SS + Q/2).
    """
    d = _check_demand(demand)
    n, t = d.shape
    lot = forward_demand(d, order_cycle_months)
    for value, name in ((moq, "moq"), (lot_multiple, "lot_multiple")):
        arr = per_cell(value, n, t, name)
        _check_nonneg(arr, name)
        lot = np.maximum(lot, arr)
    return np.maximum(lot, 0.0)


def target_stock(safety_stock: npt.ArrayLike, lot_size: npt.ArrayLike) -> FloatArray:
    """Maximum (order-up-to) stock = SS + lot size: the peak right after a lot arrives.

    Closing stock above this level is excess the plan did not need [SPT] (order-point,
    order-quantity (s, Q) system: the maximum inventory is s − expected lead-time demand + Q,
    i.e. SS + Q). Use ``cycle_stock`` for the lot size.
    """
    ss = np.asarray(safety_stock, dtype=np.float64)
    lot = np.asarray(lot_size, dtype=np.float64)
    return np.asarray(np.maximum(ss, 0.0) + np.maximum(lot, 0.0), dtype=np.float64)
