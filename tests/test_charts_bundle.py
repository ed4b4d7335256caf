"""The plotly.js bundle the charts drawn in the browser load (app/static/plotly-cartesian.min.js):
the very file its README names, the plotly.js version the Python figures are built for, and every
trace type the page sends it."""

from __future__ import annotations

import asyncio
import hashlib
import re
import urllib.request
from pathlib import Path

import plotly
import pytest

from app import figures
from app.components import charts
from bench.stclient import Session
from rnn_core import reference
from rnn_core.activations import NAMES
from rnn_core.state import State
from tests.serving import streamlit_server

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
    js = charts.CODE.read_text(encoding="utf-8")
    assert f'"app/static/{BUNDLE.name}"' in js
    assert f"app/static/{BUNDLE.name}" == charts.PLOTLY_JS  # (the loader fetches it meanwhile)
    assert f'new URL("{charts.PLOTLY_JS}"' in charts.loader(b"")


def test_each_charts_element_carries_a_loader_of_the_code_the_server_serves(tmp_path):
    """Streamlit copies a component's JavaScript into every element: the charts' code (12 KB) is
    served once at app/static/charts.js instead, and each element carries only the few lines that
    import it, under a URL naming the served file's hash (a new version is never read from a cache)."""

    async def elements(url: str) -> list[str]:
        async with Session(url, timeout=120) as session:
            await session.run()
            await session.run({"view_step": 1})  # (a pick: the explanation's element comes too)
            return [
                msg.delta.new_element.bidi_component.js_content
                for msg in session.elements.values()
                if msg.delta.new_element.WhichOneof("type") == "bidi_component"
            ]

    with streamlit_server(tmp_path) as server:
        served = urllib.request.urlopen(f"{server.url}/app/static/charts.js", timeout=30)
        body = served.read()
        carried = asyncio.run(elements(server.url))
    assert served.headers["Content-Type"].split(";")[0] in ("text/javascript", "application/javascript")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert body == charts.CODE.read_bytes() and b"export default function" in body
    assert len(carried) >= 3  # the time charts, the outputs, the explanation
    version = hashlib.sha256(body).hexdigest()[:16]
    for js in carried:
        assert len(js) < 1500, len(js)
        assert f'"app/static/charts.js?v={version}"' in js
        assert "import(url)" in js
