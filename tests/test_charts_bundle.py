"""The plotly.js bundle the charts drawn in the browser load (app/static/plotly-cartesian.min.js):
the very file its README names, the plotly.js version the Python figures are built for, and every
trace type the page sends it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import plotly
import pytest

from app import figures
from app.components import charts
from rnn_core import reference
from rnn_core.activations import NAMES
from rnn_core.state import State

STATIC = Path(__file__).resolve().parents[1] / "app" / "static"
BUNDLE = STATIC / "plotly-cartesian.min.js"


def version_of(path: Path) -> str:
    head = path.read_text(encoding="utf-8")[:400]
    found = re.search(r"plotly\.js(?: \([^)]*\))? v(\d+\.\d+\.\d+)", head)
    assert found, head
    return found.group(1)


def bundled_trace_types() -> set[str]:
    return set(re.findall(r'moduleType:"trace",name:"(\w+)"', BUNDLE.read_text(encoding="utf-8")))


def test_the_bundle_is_the_file_its_readme_names():
    readme = (STATIC / "README.md").read_text(encoding="utf-8")
    assert hashlib.sha256(BUNDLE.read_bytes()).hexdigest() in readme
    assert (STATIC / "LICENSE.plotly.txt").read_text(encoding="utf-8").startswith("MIT License")


def test_the_bundle_is_the_plotly_js_the_figures_are_built_for():
    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert version_of(BUNDLE) == version_of(full)


def sent_trace_types(state: State) -> set[str]:
    """Every trace type of the figures the page hands to the charts element, for `state`."""
    trace = reference.forward(state.inputs, state.resolved_weights(), state.activation)
    T = state.inputs.shape[0]
    scale = figures.scale_for(state.activation, trace.hidden)
    built = [
        figures.unrolled_diagram(T, 2, state.n_neurons, T - 1, state.shared_output, state.activation, style)
        for style in (figures.SCREEN, figures.SLIDE)
    ]
    built += [
        figures.colorbar_chart(scale, figures.SCREEN),
        figures.hidden_heatmap(trace.hidden[0], 0, figures.SCREEN, state.activation, scale, colorbar=False),
        figures.row_heatmap(trace.hidden, 0, figures.SCREEN, state.activation, scale, colorbar=False),
        figures.outputs_chart(trace.outputs, figures.SCREEN, state.shared_output, state.activation, T - 1),
    ]
    return {str(t.get("type", "scatter")) for chart in built for t in chart.data}


@pytest.mark.parametrize("activation", NAMES)
@pytest.mark.parametrize("shared_output", [False, True])
def test_every_trace_type_the_page_sends_is_in_the_bundle(activation, shared_output):
    state = State(activation=activation, shared_output=shared_output)
    sent = sent_trace_types(state)
    assert {"heatmap", "scatter"} <= sent
    assert sent <= bundled_trace_types(), sent - bundled_trace_types()
    assert "scattergl" not in bundled_trace_types()  # (the control: the full bundle's extras are not here)


def test_the_charts_element_loads_the_bundle():
    js = (Path(charts.__file__).parent / "charts.js").read_text(encoding="utf-8")
    assert f'"app/static/{BUNDLE.name}"' in js
