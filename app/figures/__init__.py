"""Trace -> plotly figures, as frozen Charts. Pure: no streamlit, no I/O; the page and the exporter
share them. style: sizes, template, one scale per activation; chart: the Chart type, describe,
as_table; heatmap: the general heatmap builder and the page's heatmaps; lines: the outputs chart;
diagram: the unrolled diagram; slides: 16:9 compositions and every figure of the page by id."""

from .chart import Chart, as_table, describe
from .diagram import max_blocks, unrolled_diagram
from .heatmap import (
    MAX_CLICKABLE_CELLS,
    cell_outline,
    colorbar_chart,
    explosion,
    heatmap,
    heatmap_width,
    hidden_heatmap,
    highlight_cell,
    row_heatmap,
    stuck_count,
    stuck_mask,
    stuck_words,
)
from .lines import output_formula, outputs_chart
from .slides import MAX_GRID, SLIDE_H, SLIDE_W, hidden_states_figure, page_figures, slide_figures, window
from .style import COLORSCALE, HIGHLIGHT, SCREEN, SLIDE, Scale, Style, number, scale_for

__all__ = [
    "COLORSCALE",
    "HIGHLIGHT",
    "MAX_CLICKABLE_CELLS",
    "MAX_GRID",
    "SCREEN",
    "SLIDE",
    "SLIDE_H",
    "SLIDE_W",
    "Chart",
    "Scale",
    "Style",
    "as_table",
    "cell_outline",
    "colorbar_chart",
    "describe",
    "explosion",
    "heatmap",
    "heatmap_width",
    "hidden_heatmap",
    "hidden_states_figure",
    "highlight_cell",
    "max_blocks",
    "number",
    "output_formula",
    "outputs_chart",
    "page_figures",
    "row_heatmap",
    "scale_for",
    "slide_figures",
    "stuck_count",
    "stuck_mask",
    "stuck_words",
    "unrolled_diagram",
    "window",
]
