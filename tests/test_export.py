"""`python -m rnn_core export`: every figure of the page as PNG and SVG, and the trace as CSV."""

from __future__ import annotations

import csv
import io
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from app import figures
from app.export import (
    EXPORT_WIDTH,
    BrowserNotFound,
    ExportError,
    export_figures,
    file_name,
    find_browser,
    trace_csv,
)
from rnn_core import reference
from rnn_core.state import State
from tests.proctools import ctrl_c, kill_tree, wait_for_descendant

ROOT = Path(__file__).resolve().parents[1]
SEED = State().seed
CHART_IDS = ["hidden-y0", "hidden-y1", "hidden-y2", "row-0", "row-1", "row-2", "outputs"]
EXPECTED = sorted(file_name(chart, SEED, ext) for chart in CHART_IDS for ext in ("png", "svg"))
SVG = "{http://www.w3.org/2000/svg}"


def has_browser() -> bool:
    try:
        find_browser()
    except BrowserNotFound:
        return False
    return True


needs_browser = pytest.mark.skipif(not has_browser(), reason="no Chromium to draw with")


def run_export(*args: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnn_core", "export", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def svg_title(path: Path) -> str:
    root = ET.parse(path).getroot()
    titles = [node for node in root.iter(f"{SVG}text") if "gtitle" in node.get("class", "")]
    return "".join(titles[0].itertext())


def tutorial_figures() -> dict:
    trace = reference.forward(State().inputs, State().resolved_weights())
    return figures.page_figures(trace.hidden, trace.outputs)


@pytest.fixture(scope="module")
def numpy_export(tmp_path_factory):
    out = tmp_path_factory.mktemp("numpy") / "figures"  # not there yet: the command makes it
    result = run_export("--engine", "numpy", "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    return out, result


@needs_browser
def test_every_figure_is_written_once_per_format(numpy_export):
    out, result = numpy_export
    assert sorted(p.name for p in out.iterdir()) == EXPECTED
    assert sorted(Path(line).name for line in result.stdout.splitlines()) == EXPECTED
    assert "exported 14 files" in result.stderr
    assert set(tutorial_figures()) == set(CHART_IDS)  # the ids are the page's, via page_figures


@needs_browser
def test_pngs_are_three_times_the_figure_size(numpy_export):
    out, _ = numpy_export
    for chart_id, fig in tutorial_figures().items():
        assert fig.meta == chart_id
        width = fig.width or EXPORT_WIDTH  # figures without a width of their own take the column's
        assert png_size(out / file_name(chart_id, SEED, "png")) == (3 * width, 3 * fig.height)


@needs_browser
def test_svgs_are_xml_with_the_title(numpy_export):
    out, _ = numpy_export
    for chart_id, fig in tutorial_figures().items():
        root = ET.parse(out / file_name(chart_id, SEED, "svg")).getroot()
        assert root.tag == f"{SVG}svg"
        texts = ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]
        assert fig.title in texts, chart_id
        assert svg_title(out / file_name(chart_id, SEED, "svg")) == fig.title
        assert root.get("viewBox") == f"0 0 {fig.width or EXPORT_WIDTH} {fig.height}"


@needs_browser
@pytest.mark.slow
def test_tensorflow_engine_writes_the_same_files(numpy_export, tmp_path):
    numpy_out, _ = numpy_export
    result = run_export("--out", str(tmp_path))  # the default engine: the TensorFlow worker
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == EXPECTED
    for chart_id in CHART_IDS:
        png = file_name(chart_id, SEED, "png")
        assert png_size(tmp_path / png) == png_size(numpy_out / png)
        svg = file_name(chart_id, SEED, "svg")
        assert svg_title(tmp_path / svg) == svg_title(numpy_out / svg)  # same saturation counts


def test_no_chromium_exits_2_and_says_how_to_install(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PATH": "", "BROWSER_PATH": str(tmp_path / "no-such-chrome")}
    result = run_export("--engine", "numpy", "--out", str(out), env=env)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "chromium" in lines[0].lower()
    assert "apt-get install chromium" in lines[0] and "BROWSER_PATH" in lines[0]
    assert result.stdout == ""
    assert not out.exists()


def test_an_empty_path_still_finds_an_installed_chromium(monkeypatch):
    """The check looks where kaleido looks (the usual install paths too), so it never cries wolf."""
    installed = [p for p in ("/usr/bin/chromium", "/usr/bin/google-chrome") if os.access(p, os.X_OK)]
    if not installed:
        pytest.skip("no Chromium at the usual paths")
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    assert Path(find_browser()).is_file()


def test_bad_state_exits_2_with_one_line(tmp_path):
    state = tmp_path / "bad.json"
    state.write_text('{"n_neurons": 999}')
    result = run_export(str(state), "--out", str(tmp_path / "out"))  # refused before TF or Chromium
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "n_neurons" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_format_is_refused_before_any_browser_starts(tmp_path):
    with pytest.raises(ValueError, match="gif"):
        export_figures(tutorial_figures(), tmp_path, SEED, ["png", "gif"], browser="/nowhere")
    assert list(tmp_path.iterdir()) == []


def test_file_names_say_what_and_which_seed():
    assert file_name("hidden-y1", 42, "png") == "hidden-y1-seed42.png"
    assert file_name("row-0", 7, ".svg") == "row-0-seed7.svg"


def test_trace_csv_has_one_line_per_step_row_neuron():
    state = State(seed=3)
    trace = reference.forward(state.inputs, state.resolved_weights(), state.activation)
    T, B, N = trace.hidden.shape
    rows = list(csv.DictReader(io.StringIO(trace_csv(state, trace))))
    assert len(rows) == T * B * N == 3 * 3 * 8
    assert list(rows[0]) == ["step", "row", "neuron", "x0", "x1", "pre_activation", "hidden", "output"]
    for line in rows:
        t, r, n = int(line["step"]), int(line["row"]), int(line["neuron"])
        assert float(line["hidden"]) == trace.hidden[t, r, n]  # exact: written with repr
        assert float(line["pre_activation"]) == trace.pre_activation[t, r, n]
        assert float(line["output"]) == trace.outputs[t, r]
        np.testing.assert_array_equal([float(line["x0"]), float(line["x1"])], state.inputs[t, r])
    assert {(int(x["step"]), int(x["row"]), int(x["neuron"])) for x in rows} == set(np.ndindex(T, B, N))


def test_rnn_core_does_not_import_plotly():
    code = "import sys, rnn_core.cli, rnn_core.__main__; print(sorted(m for m in sys.modules if 'plot' in m))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ---- where the files go: never through a link, never elsewhere than reported ------------------


def test_a_directory_in_place_of_a_file_name_is_refused_before_anything_is_written(tmp_path):
    taken = tmp_path / file_name("outputs", SEED, "png")
    taken.mkdir()
    with pytest.raises(ExportError, match=r"outputs-seed42\.png is a directory"):
        export_figures(tutorial_figures(), tmp_path, SEED, ["png"], browser="/nowhere")
    assert [p.name for p in tmp_path.iterdir()] == [taken.name] and list(taken.iterdir()) == []


def test_a_symlink_in_place_of_a_file_name_is_refused(tmp_path):
    victim = tmp_path / "victim.txt"
    out = tmp_path / "out"
    out.mkdir()
    (out / file_name("row-0", SEED, "svg")).symlink_to(victim)
    with pytest.raises(ExportError, match=r"row-0-seed42\.svg is a symbolic link"):
        export_figures(tutorial_figures(), out, SEED, ["svg"], browser="/nowhere")
    assert not victim.exists()


def test_a_symlinked_output_directory_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(ExportError, match="symbolic link"):
        export_figures(tutorial_figures(), link, SEED, ["svg"], browser="/nowhere")
    result = run_export("--engine", "numpy", "--out", str(link))
    assert result.returncode == 2 and "symbolic link" in result.stderr and "Traceback" not in result.stderr
    assert list(real.iterdir()) == []


@needs_browser
def test_the_command_refuses_a_taken_file_name_with_one_line(tmp_path):
    out = tmp_path / "out"
    (out / file_name("hidden-y1", SEED, "svg")).mkdir(parents=True)
    result = run_export("--engine", "numpy", "--out", str(out), "--formats", "svg")
    assert result.returncode == 1
    assert result.stdout == ""  # no path reported: none was written
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "hidden-y1-seed42.svg is a directory" in lines[0], result.stderr
    assert [p.name for p in out.iterdir()] == ["hidden-y1-seed42.svg"]


@needs_browser
def test_files_replace_regular_files_and_only_written_paths_are_reported(numpy_export, tmp_path):
    out, result = numpy_export
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging directory left
    assert sorted(result.stdout.splitlines()) == sorted(str(out / name) for name in EXPECTED)
    stale = tmp_path / file_name("outputs", SEED, "svg")
    stale.write_text("old")
    hard = tmp_path / "elsewhere.svg"
    os.link(stale, hard)  # a hard link: replacing the name must not write into the other name's file
    rerun = run_export("--engine", "numpy", "--out", str(tmp_path), "--formats", "svg")
    assert rerun.returncode == 0, rerun.stderr
    assert stale.read_text().startswith("<svg") and hard.read_text() == "old"


@needs_browser
@pytest.mark.slow
def test_ctrl_c_during_an_export_exits_130_quietly(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "rnn_core", "export", "--engine", "numpy", "--out", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    wait_for_descendant(process, "chrom")  # the browser is starting
    ctrl_c(process)
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        kill_tree(process)
        raise AssertionError("the export hung after Ctrl-C") from None
    assert process.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    assert err.strip().splitlines()[-1] == "interrupted"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]
    from tests.proctools import descendants

    assert descendants(process.pid) == []
