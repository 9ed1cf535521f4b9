"""The numpy matrices handed to Pyomo's standard-form compiler (posture/sparse_matrix.py).

Each operation the compiler performs is checked against scipy.sparse on random
matrices (duplicates, stored zeros, empty rows and columns), and whole compiled
models are compared array by array with the compiler's own scipy path.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from pyomo.repn.plugins import standard_form

from posture.data import build_model_data
from posture.loader import load_study
from posture.model import build_model
from posture.solver import compile_model
from posture.sparse_matrix import ColumnMatrix, RowMatrix, numpy_matrices

ROOT = Path(__file__).resolve().parents[1]


def _random_csr(rng: np.random.Generator, n_rows: int, n_cols: int) -> tuple:
    """CSR arrays with duplicate positions and stored zeros, as the compiler may pass."""
    lengths = rng.integers(0, 6 if n_cols else 1, size=n_rows)
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    nnz = int(indptr[-1])
    indices = rng.integers(0, max(n_cols, 1), size=nnz)
    data = rng.choice([0.0, 1.0, -2.5, 3.0, 0.25], size=nnz)
    return data, indices, indptr


@pytest.mark.parametrize("seed", range(40))
def test_row_to_column_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_rows, n_cols = int(rng.integers(0, 9)), int(rng.integers(0, 9))
    arrays = _random_csr(rng, n_rows, n_cols)
    ours = RowMatrix(arrays, [n_rows, n_cols]).tocsc()
    ours.sum_duplicates()
    ours.eliminate_zeros()
    theirs = sp.csr_array(arrays, shape=(n_rows, n_cols)).tocsc()
    theirs.sum_duplicates()
    theirs.eliminate_zeros()
    assert np.array_equal(ours.toarray(), theirs.toarray())
    assert np.array_equal(ours.indptr, theirs.indptr)
    assert np.array_equal(ours.indices, theirs.indices)
    assert np.array_equal(ours.data, theirs.data)
    mask = rng.random(n_cols) < 0.5
    assert np.array_equal(ours[:, mask].toarray(), theirs[:, mask].toarray())
    x = rng.normal(size=n_cols)
    assert np.allclose(ours @ x, theirs @ x)


def test_duplicates_are_added_and_zeros_dropped() -> None:
    # Row 0 holds column 1 twice (2 + 3) and a stored zero in column 0.
    m = RowMatrix(([2.0, 0.0, 3.0, 4.0], [1, 0, 1, 0], [0, 3, 4]), [2, 2]).tocsc()
    m.sum_duplicates()
    m.eliminate_zeros()
    assert m.toarray().tolist() == [[0.0, 5.0], [4.0, 0.0]]
    assert m.indptr.tolist() == [0, 1, 2]


def test_only_whole_columns_can_be_selected() -> None:
    m = ColumnMatrix(([1.0], [0], [0, 1]), (1, 1))
    with pytest.raises(NotImplementedError):
        m[0:1, np.array([True])]


def _compile_with_scipy(model: object) -> object:
    """Pyomo's own path: outside posture's block the compiler uses scipy again."""
    repn = standard_form.LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    assert isinstance(repn.A, sp.csc_array)
    return repn


def test_the_hooks_are_put_back_after_the_block() -> None:
    impl = standard_form._LinearStandardFormCompiler_impl
    before = impl._csc_matrix, impl._csr_matrix
    with numpy_matrices() as used:
        assert used
        assert impl._csc_matrix is ColumnMatrix and impl._csr_matrix is RowMatrix
    assert (impl._csc_matrix, impl._csr_matrix) == before


@pytest.mark.parametrize(
    "study", ["inputs/study.yaml", "tests/fixtures/tiny.yaml"], ids=["default", "tiny"]
)
def test_compiled_model_equals_the_scipy_compile(study: str) -> None:
    resolved = load_study(ROOT / study)
    model = build_model(build_model_data(resolved.study))
    compiled = compile_model(model)
    repn = _compile_with_scipy(model)
    a = repn.A.tocsc()
    lp = compiled.lp
    assert [v.name for v in repn.columns] == list(lp.col_names_)
    assert np.array_equal(np.asarray(lp.a_matrix_.start_), a.indptr)
    assert np.array_equal(np.asarray(lp.a_matrix_.index_), a.indices)
    assert np.array_equal(np.asarray(lp.a_matrix_.value_), a.data)
    assert np.array_equal(np.asarray(lp.col_cost_), repn.c.toarray().ravel())
    rhs = np.asarray(repn.rhs, dtype=float)
    kinds = np.array([row.bound_type for row in repn.rows])
    assert np.array_equal(np.asarray(lp.row_lower_)[kinds != 1], rhs[kinds != 1])
    assert np.array_equal(np.asarray(lp.row_upper_)[kinds != -1], rhs[kinds != -1])
    assert a.nnz > 0 and len(rhs) == lp.num_row_


def test_solving_does_not_import_scipy(tmp_path: Path) -> None:
    """The first compile no longer pays for scipy (and Pyomo's scipy finaliser)."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from posture.run import solve_study\n"
        "from posture.loader import load_study\n"
        f"solve_study(load_study(Path({str(ROOT / 'inputs/study.yaml')!r})))\n"
        "print('scipy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False"
