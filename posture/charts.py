"""Charts as SVG text (matplotlib, imported only here and only when a chart is drawn).

SVG output is made reproducible: a fixed hash salt and no creation date, so equal
inputs give byte-identical files.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd


def _svg(figure: object) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")  # type: ignore[attr-defined]
    plt.close(figure)  # type: ignore[arg-type]
    return buffer.getvalue()


def _pyplot() -> object:
    import matplotlib

    matplotlib.use("Agg")  # no display: charts are files
    matplotlib.rcParams["svg.hashsalt"] = "posture"
    import matplotlib.pyplot as plt

    return plt


def frontier_chart(frontier: pd.DataFrame, objectives: Sequence[str], title: str) -> str:
    """The frontier's points: first objective against the second (third as colour)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))  # type: ignore[attr-defined]
    x, y = objectives[1], objectives[0]
    data = frontier.sort_values([x, y])
    if len(objectives) == 3:
        points = ax.scatter(data[x], data[y], c=data[objectives[2]], cmap="viridis", s=28)
        fig.colorbar(points, ax=ax, label=objectives[2])
    else:
        ax.plot(data[x], data[y], marker="o", markersize=4, linewidth=1, drawstyle="steps-post")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title, fontsize=10)
    ax.grid(True, linewidth=0.3)
    return _svg(fig)


def sweep_chart(table: pd.DataFrame, parameter: str, measures: Sequence[str], title: str) -> str:
    """Each measure against one swept parameter (mean over the other parameters)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))  # type: ignore[attr-defined]
    means = table.groupby(parameter)[list(measures)].mean(numeric_only=True)
    for name in measures:
        ax.plot(means.index, means[name], marker="o", markersize=3, linewidth=1, label=name)
    ax.set_xlabel(parameter)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.grid(True, linewidth=0.3)
    return _svg(fig)
