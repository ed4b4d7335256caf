"""The learning figures (pure): the loss curve, per-step losses, outputs against targets, and the
gradients through time. Charts like the rest of app.figures (`meta` names the chart)."""

from __future__ import annotations

import numpy as np

from .chart import Chart
from .style import GRID, ROW_COLORS, SCREEN, Style
from .style import layout as _layout


def figure(data: list[dict], layout: dict, alt: str = "") -> Chart:
    return Chart.build(data, layout, alt or layout["title"]["text"])


MAX_POINTS = 2000  # a loss curve longer than this is drawn from evenly spaced steps (always the last)
FADED = "#9aa5b1"
LOSS_COLOR = "#d55e00"


def _thin(losses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values), at most MAX_POINTS of them, first and last kept."""
    n = len(losses)
    steps = (
        np.arange(n) if n <= MAX_POINTS else np.unique(np.linspace(0, n - 1, MAX_POINTS).round().astype(int))
    )
    return steps.astype(np.float64), np.asarray(losses, dtype=np.float64)[steps]


def loss_curve(losses: list[float], runs: list[list[float]], log: bool, style: Style = SCREEN) -> Chart:
    """Total loss per step of this run (step 0: before training), earlier runs as faded lines."""
    data = []
    for i, run in enumerate(runs):
        x, y = _thin(np.asarray(run))
        data.append(
            dict(
                type="scatter",
                x=x,
                y=y,
                mode="lines",
                name=f"run −{len(runs) - i}",
                line={"color": FADED, "width": 1.5},
                opacity=0.5,
                hovertemplate=f"earlier run {len(runs) - i}<br>step %{{x}}<br>loss %{{y:.4g}}<extra></extra>",
            )
        )
    x, y = _thin(np.asarray(losses))
    data.append(
        dict(
            type="scatter",
            x=x,
            y=y,
            mode="lines+markers" if len(x) <= 60 else "lines",
            name="this run",
            line={"color": LOSS_COLOR, "width": 3},
            hovertemplate="step %{x}<br>loss %{y:.6g}<extra></extra>",
        )
    )
    layout = _layout(
        "loss-curve",
        "Loss L after each training step<br>(mean over steps and rows of (out_t − target_t)²)",
        style,
        style.chart_height,
        xaxis={"title": {"text": "training step"}, **GRID},
        yaxis={"title": {"text": "loss"}, "type": "log" if log else "linear", **GRID},
        showlegend=bool(runs),
        legend={"orientation": "h", "y": -0.4},
    )
    return figure(data, layout)


def step_losses(outputs: np.ndarray, targets: np.ndarray, style: Style = SCREEN) -> Chart:
    """Per output step: mean over rows of (out_t − target_t)², for the current weights."""
    per_step = np.mean((outputs - targets) ** 2, axis=1)
    return _bars(
        "step-losses",
        "Loss per step, current weights<br>(mean over rows)",
        [f"out{t}" for t in range(len(per_step))],
        per_step,
        LOSS_COLOR,
        "%{x}<br>mean (out − target)² = %{y:.6g}<extra></extra>",
        ("step", "(out − target)²"),
        style,
    )


def _bars(chart_id: str, title: str, x: list[str], y, color: str, hover: str, axes, style: Style) -> Chart:
    """One bar per label x (y: their values); axes: the (x, y) axis titles."""
    bars = dict(type="bar", x=x, y=y, marker={"color": color}, hovertemplate=hover)
    layout = _layout(
        chart_id,
        title,
        style,
        style.chart_height,
        xaxis={"title": {"text": axes[0]}, **GRID},
        yaxis={"title": {"text": axes[1]}, **GRID},
    )
    return figure([bars], layout)


def outputs_and_targets(outputs: np.ndarray, targets: np.ndarray, style: Style = SCREEN) -> Chart:
    """out_t per row (solid) and its target (dashed, hollow markers), the same color per row."""
    T, B = outputs.shape
    steps = [f"out{t}" for t in range(T)]
    data = []
    for r in range(B):
        color = ROW_COLORS[r % len(ROW_COLORS)]
        data.append(
            dict(
                type="scatter",
                x=steps,
                y=outputs[:, r],
                mode="lines+markers",
                name=f"row {r}",
                line={"color": color, "width": 3 if B <= 8 else 1.5},
                hovertemplate=f"row {r}<br>%{{x}} = %{{y:.4f}}<extra></extra>",
            )
        )
        data.append(
            dict(
                type="scatter",
                x=steps,
                y=targets[:, r],
                mode="lines+markers",
                name=f"target {r}",
                line={"color": color, "width": 1.5, "dash": "dash"},
                marker={"symbol": "circle-open", "size": 10},
                hovertemplate=f"row {r}, target<br>%{{x}} = %{{y:.4f}}<extra></extra>",
            )
        )
    layout = _layout(
        "outputs-targets",
        "Outputs (solid) and their targets (dashed), per row",
        style,
        style.chart_height,
        xaxis={"title": {"text": "step"}, **GRID},
        yaxis={"title": {"text": "value"}, "zeroline": True, **GRID},
        showlegend=B <= 6,
        legend={"orientation": "h", "y": -0.4},
    )
    return figure(data, layout)


def grad_step_bars(norms: np.ndarray, style: Style = SCREEN) -> Chart:
    return _bars(
        "grad-dl-dy",
        "‖dL/dy_t‖: how much the loss<br>still feels each hidden state",
        [f"y{t}" for t in range(len(norms))],
        norms,
        "#0072b2",
        "‖dL/d%{x}‖ = %{y:.4g}<extra></extra>",
        ("hidden state", "‖dL/dy_t‖"),
        style,
    )


def grad_map(sens: np.ndarray, relative: bool, style: Style = SCREEN) -> Chart:
    """The T×T lower triangle of ‖∂out_t/∂X_k‖: log10 of it (absolute) or each row over its max."""
    T = sens.shape[0]
    lower = np.tril(np.ones((T, T), dtype=bool))
    if relative:
        z = np.full((T, T), np.nan)
        for t in range(T):
            top = sens[t, : t + 1].max()
            z[t, : t + 1] = sens[t, : t + 1] / top if top > 0 else 0.0
        colorbar, zmin, zmax, scale = "row / row max", 0.0, 1.0, "Viridis"
        hover = "out%{y} ← X%{x}<br>%{z:.3g} of the row's largest<extra></extra>"
    else:
        with np.errstate(divide="ignore"):
            z = np.where(lower, np.log10(np.maximum(sens, 1e-300)), np.nan)
        finite = z[np.isfinite(z)]
        zmin = float(finite.min()) if finite.size else -1.0
        zmax = float(finite.max()) if finite.size else 0.0
        colorbar, scale = "log10 ‖∂out_t/∂X_k‖", "Viridis"
        hover = "out%{y} ← X%{x}<br>log10 ‖∂out/∂X‖ = %{z:.3g}<extra></extra>"
    heat = dict(
        type="heatmap",
        z=z,
        x=np.arange(T),
        y=np.arange(T),
        colorscale=scale,
        zmin=zmin,
        zmax=zmax if zmax > zmin else zmin + 1,
        colorbar={"title": {"text": colorbar, "side": "right"}},
        hovertemplate=hover,
        hoverongaps=False,
    )
    height = min(120 + 28 * T, 700) if T > 3 else style.chart_height
    layout = _layout(
        "grad-map",
        "‖∂out_t/∂X_k‖: output t (rows) on input k (columns)",
        style,
        max(height, style.chart_height),
        xaxis={
            "title": {"text": "input step k"},
            "dtick": 1 if T <= 20 else 5,
            "showgrid": False,
            "automargin": True,
        },
        yaxis={
            "title": {"text": "output step t"},
            "dtick": 1 if T <= 20 else 5,
            "autorange": "reversed",
            "showgrid": False,
            "zeroline": False,
            "automargin": True,
        },
    )
    return figure([heat], layout)


def decay_chart(
    distance: np.ndarray, norms: np.ndarray, per_step: float | None, style: Style = SCREEN
) -> Chart:
    shown = np.where(norms > 1e-300, norms, np.nan)
    data = [
        dict(
            type="scatter",
            x=distance.astype(np.float64),
            y=shown,
            mode="lines+markers",
            name="‖∂out_(T−1)/∂X_k‖",
            line={"color": "#0072b2", "width": 3},
            hovertemplate="T−1−k = %{x}<br>‖∂out/∂X_k‖ = %{y:.3g}<extra></extra>",
        )
    ]
    ok = np.isfinite(shown)
    if per_step is not None and ok.any():
        first = int(np.argmax(ok))
        fit = shown[first] * per_step ** (distance - distance[first])
        data.append(
            dict(
                type="scatter",
                x=distance.astype(np.float64),
                y=fit,
                mode="lines",
                name=f"fit: ×{per_step:.3g} per step",
                line={"color": LOSS_COLOR, "dash": "dash", "width": 2},
                hovertemplate="fit<br>%{y:.3g}<extra></extra>",
            )
        )
    layout = _layout(
        "grad-decay",
        "Vanishing or exploding? ‖∂out_(T−1)/∂X_k‖ against the distance T−1−k",
        style,
        style.chart_height,
        xaxis={"title": {"text": "steps back (T−1−k)"}, **GRID},
        yaxis={"title": {"text": "‖∂out_(T−1)/∂X_k‖"}, "type": "log", **GRID, "exponentformat": "power"},
        showlegend=True,
        legend={"orientation": "h", "y": -0.4},
    )
    return figure(data, layout)
