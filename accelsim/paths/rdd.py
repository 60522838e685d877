"""Resource-dependent dynamic (RDD) path selection (issue 4 item 5).

Given evaluated paths (one row each with a cost column such as ``latency_s`` or
``energy_j`` and a known ``accuracy``), choose the most accurate path whose cost fits a
budget. Over all budgets the choices are exactly the Pareto front (min cost, max
accuracy), so the lookup table a runtime embeds is that front, cheapest first.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..errors import AccelsimError
from ..safeio import short

COST_COLUMNS = ("latency_s", "energy_j")


def with_known_accuracy(df: pd.DataFrame, y: str = "accuracy") -> pd.DataFrame:
    """Rows whose ``y`` is a number (``"unknown"`` and missing values dropped), ``y`` as float."""
    if y not in df.columns:
        raise AccelsimError(f"column {y!r} missing; columns: {', '.join(map(str, df.columns))}")
    vals = pd.to_numeric(df[y], errors="coerce")
    out = df.loc[vals.notna()].copy()
    out[y] = vals[vals.notna()].astype(float)
    return out


def pareto_front(df: pd.DataFrame, x: str = "latency_s", y: str = "accuracy") -> pd.DataFrame:
    """Rows not dominated under (min ``x``, max ``y``), sorted by ``x`` ascending.

    Among rows with equal cost only the most accurate is kept; a row is on the front when
    it is strictly more accurate than every cheaper row.
    """
    known = with_known_accuracy(df, y)
    if x not in known.columns:
        raise AccelsimError(f"column {x!r} missing; columns: {', '.join(map(str, df.columns))}")
    order = known.sort_values([x, y], ascending=[True, False], kind="mergesort")
    best = -np.inf
    keep = []
    for idx, acc in zip(order.index, order[y].to_numpy()):
        if acc > best:
            keep.append(idx)
            best = acc
    return order.loc[keep]


def select_path(df: pd.DataFrame, budget: float, by: str = "latency_s",
                y: str = "accuracy") -> pd.Series | None:
    """The most accurate row with ``by <= budget`` (ties: the cheaper), or ``None``."""
    return _pick(pareto_front(df, by, y), budget, by)


def _pick(front: pd.DataFrame, budget: float, by: str) -> pd.Series | None:
    """The last (most accurate) row of a Pareto ``front`` whose ``by`` fits ``budget``."""
    fits = front[front[by] <= budget]
    return None if fits.empty else fits.iloc[-1]


def lookup_table(df: pd.DataFrame, by: str = "latency_s", max_budget: float | None = None,
                 budgets: Iterable[float] | None = None, y: str = "accuracy",
                 columns: Sequence[str] = ("exec_path", "latency_s", "energy_j", "accuracy")
                 ) -> pd.DataFrame:
    """Budget -> chosen path table.

    Without ``budgets`` the rows are the breakpoints: each Pareto-optimal cost up to
    ``max_budget`` (from that budget on, until the next row, its path is the choice).
    With ``budgets`` one row per given budget. ``feasible`` says whether a path fits: where
    none does, ``feasible`` is False and ``exec_path`` missing (an empty ``exec_path`` is
    the full model, never "nothing fits").
    """
    if by not in COST_COLUMNS and by not in df.columns:
        raise AccelsimError(f"budget column {by!r} missing; use one of {', '.join(COST_COLUMNS)}")
    front = pareto_front(df, by, y)
    cols = [c for c in columns if c in front.columns]
    budget_col = f"budget_{by}"
    if budgets is None:
        rows = front if max_budget is None else front[front[by] <= max_budget]
        out = rows[cols].copy()
        out.insert(0, budget_col, rows[by].to_numpy())
        out.insert(1, "feasible", True)
        return out.reset_index(drop=True)
    records = []
    for b in budgets:
        choice = _pick(front, float(b), by)
        rec = {budget_col: float(b), "feasible": choice is not None}
        rec.update({c: (choice[c] if choice is not None else (None if c == "exec_path" else np.nan))
                    for c in cols})
        records.append(rec)
    return pd.DataFrame.from_records(records, columns=[budget_col, "feasible", *cols])


def parse_quantity(text: "str | float", unit: str) -> float:
    """``"3ms"`` -> 0.003 (seconds), ``"40mJ"`` -> 0.04 (joules), ``"2.5 s"`` -> 2.5.

    Text needs its unit (prefixes n, u, µ, m, k): a bare ``"3"`` is refused, since 3 s
    and 3 ms are both plausible budgets. A Python number is taken in base units.
    """
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        value = _with_unit(str(text), unit)
    if not math.isfinite(value):
        raise AccelsimError(f"budget {short(text)} is not a finite number (an infinite budget selects nothing; "
                            "give the largest budget, e.g. 3ms)")
    if not value > 0:
        raise AccelsimError(f"budget {text!r} must be positive")
    return value


def _with_unit(text: str, unit: str) -> float:
    prefixes = {"": 1.0, "m": 1e-3, "u": 1e-6, "µ": 1e-6, "n": 1e-9, "k": 1e3}
    base = {"s": "s", "j": "J"}[unit.lower()]
    example = f"e.g. 3m{base} or 0.003{base}"
    s = text.strip().replace(" ", "")
    if not s.lower().endswith(base.lower()):
        try:
            float(s)
        except ValueError:
            raise AccelsimError(f"budget {text!r}: expected a number with unit {base} ({example})") from None
        raise AccelsimError(f"budget {text!r} has no unit: write it with {base} ({example})")
    num, pre = s[:-1], ""
    for p in sorted(prefixes, key=len, reverse=True):
        if p and num.endswith(p):
            num, pre = num[: -len(p)], p
            break
    try:
        return float(num) * prefixes[pre]
    except ValueError:
        raise AccelsimError(f"budget {text!r}: expected a number with unit {base} ({example})") from None
