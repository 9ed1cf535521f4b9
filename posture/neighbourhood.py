"""Which columns a neighbourhood search may use: the LP-guided start for large MIPs.

On large studies HiGHS spends its time limit in presolve and root cuts and finds poor
plans (benchmark L: incumbents 16-38 % above the bound after 120 s), while the LP
relaxation is nearly integral: of 110,706 integer columns, 237 are fractional. The
search in ``posture/solver.py`` (:func:`posture.solver._neighbourhood_start`) solves a
sequence of small MIPs in which every integer column the LP left at zero is held at
zero, except those this module frees; each round frees, in every row where the best
plan so far pays for a priced continuous column (a shortfall), the integer columns of
that row the LP valued best (lowest reduced cost). The plans found are plans of the
full model (only upper bounds were tightened), and the best one starts its solve.

This module holds only that bookkeeping, in numpy; it never talks to HiGHS.
"""

from __future__ import annotations

import numpy as np


class Neighbourhood:
    """The set of columns the next sub-MIP may move, grown round by round."""

    def __init__(
        self,
        matrix: tuple[np.ndarray, np.ndarray, np.ndarray],
        shape: tuple[int, int],
        cost: np.ndarray,
        integer: np.ndarray,
        lp_values: np.ndarray,
        reduced_costs: np.ndarray,
        per_row: int = 50,
    ) -> None:
        """``matrix`` is the column-wise (start, index, value) triple of the model."""
        start, index, _ = (np.asarray(a) for a in matrix)
        n_rows, n_cols = shape
        self.integer = np.asarray(integer, dtype=bool)
        self.reduced_costs = np.asarray(reduced_costs, dtype=float)
        self.per_row = per_row
        self.col_start, self.col_rows = start, index
        # the same matrix row-wise: which columns sit in each row
        cols = np.repeat(np.arange(n_cols), np.diff(start))
        order = np.argsort(index, kind="stable")
        self.row_cols = cols[order]
        self.row_start = np.concatenate(([0], np.cumsum(np.bincount(index, minlength=n_rows))))
        self.priced = ~self.integer & (np.asarray(cost, dtype=float) > 0)
        self.free = ~self.integer | (np.abs(np.asarray(lp_values, dtype=float)) > 1e-6)

    def upper_bounds(self, upper: np.ndarray) -> np.ndarray:
        """The model's upper bounds with every column outside the neighbourhood at 0."""
        bounded = np.array(upper, dtype=float)
        bounded[~self.free] = 0.0
        return bounded

    def widen(self, plan: np.ndarray) -> int:
        """Free columns in the rows where ``plan`` pays for a priced continuous column.

        Returns how many columns were freed (0: the neighbourhood cannot grow).
        """
        freed = 0
        for col in np.flatnonzero(self.priced & (np.asarray(plan) > 1e-6)):
            for row in self.col_rows[self.col_start[col] : self.col_start[col + 1]]:
                cols = self.row_cols[self.row_start[row] : self.row_start[row + 1]]
                cols = cols[~self.free[cols]]
                best = cols[np.argsort(self.reduced_costs[cols], kind="stable")[: self.per_row]]
                self.free[best] = True
                freed += len(best)
        return freed
