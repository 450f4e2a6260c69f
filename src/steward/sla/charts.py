"""Charts of the public performance page, drawn server-side as SVG with matplotlib."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure  # a bare Figure: no pyplot, no global state, thread-safe

matplotlib.rcParams["svg.hashsalt"] = "steward"  # stable ids: the same data, the same bytes


def compliance_chart(
    title: str,
    months: Sequence[str],
    compliance: Sequence[float | None],
    target: float,
) -> bytes:
    """Monthly compliance (%) of one metric against its target: bars per month (months without
    data or without a published report are gaps), the target as a dashed line."""
    figure = Figure(figsize=(6.4, 3.0), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(months)))
    values = [0.0 if c is None else c for c in compliance]  # a gap: bars start below the axis
    colours = [
        "#cccccc" if c is None else ("#2e7d32" if c >= target else "#c62828") for c in compliance
    ]
    axes.bar(positions, values, color=colours, width=0.7)
    axes.axhline(
        target, color="#1f3a5f", linestyle="--", linewidth=1.2, label=f"target {target:g}%"
    )
    low = min([c for c in compliance if c is not None] + [target])
    bottom = max(0.0, min(low - 5, 80.0))
    axes.set_ylim(bottom, 100.5)
    for x, c in zip(positions, compliance, strict=True):
        if c is None:
            axes.text(x, bottom + 1, "no data", rotation=90, ha="center", va="bottom",
                      fontsize=7, color="#666", clip_on=True)  # fmt: skip
    axes.set_xticks(positions, [m[2:] for m in months], rotation=45, fontsize=7)
    axes.set_ylabel("compliance %", fontsize=8)
    axes.tick_params(axis="y", labelsize=7)
    axes.set_title(title, fontsize=9, loc="left")
    axes.legend(loc="lower left", fontsize=7, frameon=False)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()
