"""The sparse matrices of Pyomo's standard-form compiler, in numpy alone.

Why this exists: Pyomo's ``LinearStandardFormCompiler`` builds its matrices with
``scipy.sparse``, and the first use of scipy beside Pyomo runs Pyomo's scipy
finaliser (``pyomo.common.dependencies._finalize_scipy``), which also imports
``scipy.stats``, ``scipy.integrate`` and ``scipy.spatial``: about 0.9 s, more than
everything else ``posture solve`` does on the default study. The compiler keeps its
matrix constructors as class attributes meant to be replaced
(``_LinearStandardFormCompiler_impl._csr_matrix``, ``_csc_matrix``, ``_to_vector``);
:func:`numpy_matrices` replaces them, while posture compiles, with the two small
classes below, which implement exactly the operations the compiler performs on them. Where a Pyomo
version has no such hooks, nothing is replaced and the compiler uses scipy (same
result, slower start). ``tests/test_sparse_matrix.py`` checks both against scipy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np


def _major_of_entries(indptr: np.ndarray) -> np.ndarray:
    """The column (of a CSC) or row (of a CSR) of every stored entry."""
    return np.repeat(np.arange(len(indptr) - 1, dtype=np.int32), np.diff(indptr))


class _Compressed:
    """``data``, minor ``indices`` and major ``indptr``, as scipy's constructors take them."""

    def __init__(self, arrays: tuple[Any, Any, Any], shape: Any) -> None:
        data, indices, indptr = arrays
        self.data = np.asarray(data, dtype=np.float64)
        self.indices = np.asarray(indices, dtype=np.int32)
        self.indptr = np.asarray(indptr, dtype=np.int32)
        self.shape = (int(shape[0]), int(shape[1]))


class ColumnMatrix(_Compressed):
    """A compressed sparse column matrix: ``data``, row ``indices``, column ``indptr``."""

    def tocsc(self) -> ColumnMatrix:
        return self

    def _column_of_entries(self) -> np.ndarray:
        return _major_of_entries(self.indptr)

    def sum_duplicates(self) -> None:
        """Sort each column's rows and add up entries at the same position, in place."""
        if not len(self.data):
            return
        cols = self._column_of_entries()
        order = np.lexsort((self.indices, cols))
        rows, cols, data = self.indices[order], cols[order], self.data[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        starts = np.flatnonzero(first)
        self.data = np.add.reduceat(data, starts)
        self.indices = rows[starts]
        self._set_columns(cols[starts])

    def eliminate_zeros(self) -> None:
        """Drop stored zeros, in place (a coefficient may evaluate to 0)."""
        keep = self.data != 0
        if keep.all():
            return
        cols = self._column_of_entries()[keep]
        self.data, self.indices = self.data[keep], self.indices[keep]
        self._set_columns(cols)

    def _set_columns(self, cols: np.ndarray) -> None:
        counts = np.bincount(cols, minlength=self.shape[1])
        self.indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)

    def toarray(self) -> np.ndarray:
        dense = np.zeros(self.shape)
        dense[self.indices, self._column_of_entries()] = self.data
        return dense

    def __getitem__(self, key: tuple[slice, np.ndarray]) -> ColumnMatrix:
        """``m[:, mask]``: the columns where the boolean ``mask`` is true."""
        rows, mask = key
        if rows != slice(None):
            raise NotImplementedError("only whole columns can be selected")
        keep = np.asarray(mask, dtype=bool)[self._column_of_entries()]
        cols = np.flatnonzero(mask)
        renumber = np.full(self.shape[1], -1, dtype=np.int64)
        renumber[cols] = np.arange(len(cols))
        picked = ColumnMatrix(
            (self.data[keep], self.indices[keep], np.zeros(len(cols) + 1)),
            (self.shape[0], len(cols)),
        )
        picked._set_columns(renumber[self._column_of_entries()[keep]])
        return picked

    def __matmul__(self, x: Any) -> np.ndarray:
        product = np.zeros(self.shape[0])
        weights = self.data * np.asarray(x, dtype=np.float64)[self._column_of_entries()]
        np.add.at(product, self.indices, weights)
        return product


class RowMatrix(_Compressed):
    """A compressed sparse row matrix, only ever turned into a :class:`ColumnMatrix`."""

    def tocsc(self) -> ColumnMatrix:
        rows = _major_of_entries(self.indptr)
        order = np.lexsort((rows, self.indices))  # by column, then row: stable CSC order
        matrix = ColumnMatrix(
            (self.data[order], rows[order], np.zeros(self.shape[1] + 1)), self.shape
        )
        matrix._set_columns(self.indices[order])
        return matrix


@contextmanager
def numpy_matrices() -> Iterator[bool]:
    """Within the block, Pyomo's standard-form compiler builds :class:`RowMatrix` and
    :class:`ColumnMatrix`; the previous constructors are put back afterwards, so other
    users of the compiler in the same process still get scipy's.

    Yields False (and changes nothing) when this Pyomo version has no such hooks.
    """
    from pyomo.repn.plugins import standard_form

    impl = getattr(standard_form, "_LinearStandardFormCompiler_impl", None)
    hooks = ("_to_vector", "_csc_matrix", "_csr_matrix")
    if impl is None or not all(hasattr(impl, name) for name in hooks):
        yield False
        return
    saved = [getattr(impl, name) for name in hooks]
    impl._to_vector, impl._csc_matrix, impl._csr_matrix = np.fromiter, ColumnMatrix, RowMatrix
    try:
        yield True
    finally:
        for name, value in zip(hooks, saved, strict=True):
            setattr(impl, name, value)
