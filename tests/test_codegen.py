"""Copy as code: every generated script runs in a fresh interpreter and reproduces the page's numbers.

Each script runs through RUNNER (runpy in a new `python`), which dumps the script's own arrays as JSON so
they can be compared with rnn_core.reference.forward here. The TensorFlow runs (about 4 s of import
each) are started together, a few at a time, once for the module.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from app.table import printout_lines
from rnn_core import reference
from rnn_core.codegen import CHAOS_MARGIN, STYLES, WEIGHT_NAMES, chaos, generate, weights_json, weights_npz
from rnn_core.state import State, state_from_dict

ROOT = Path(__file__).resolve().parents[1]
PARALLEL = (os.cpu_count() or 2) + 1  # scripts at once: TF's import is mostly one thread; ~0.6 GB each
TF_STYLES = ("tf1", "keras")

RUNNER = """
import json, runpy, sys
import numpy as np
g = runpy.run_path(sys.argv[1], run_name="__main__")
for n in sys.argv[3].split(","):  # the weights' literals: Wx, or Wx_init in tf1
    g[n] = g.get(n + "_init", g.get(n))
names = ["outputs", "hidden", "step_outputs", "step_hidden", "X_batch", *sys.argv[3].split(",")]
dump = {n: np.asarray(g[n], dtype=np.float64).tolist() for n in names if n in g}
with open(sys.argv[2], "w") as f:
    json.dump(dump, f)
"""


def _explicit_weights(T: int, F: int, N: int) -> dict:
    rng = np.random.default_rng(7)
    return {
        "Wx": (rng.normal(size=(F, N)) / 3).tolist(),
        "Wy": (rng.normal(size=(N, N)) / 3).tolist(),
        "b": (rng.normal(size=N) / 7).tolist(),
        "Wo": rng.uniform(-1, 1, size=(T, N)).tolist(),
        "bo": [0.1, -1 / 3, 0.25, 2e-5, -7.125, 1e-3][:T],
    }


_rng = np.random.default_rng(1)
STATES = {
    "tutorial": {},
    "one_step": {"inputs": [[[1, 2], [3, 4]]]},
    "one_feature": {"inputs": [[[0.25], [-1.5], [3]], [[1e-3], [2], [-0.1]], [[4], [5], [6]]]},
    "neurons_256": {"n_neurons": 256},
    "relu": {"activation": "relu", "weight_scale": 0.5},
    "sigmoid": {"activation": "sigmoid"},
    "shared": {"shared_output": True, "n_neurons": 5},
    "explicit": {  # 6 steps: the tf1 script loops over a list of placeholders
        "inputs": np.round(_rng.normal(size=(6, 2, 3)) * 2, 3).tolist(),
        "n_neurons": 5,
        "weights": _explicit_weights(6, 3, 5),
    },
    "chaotic": {"inputs": np.round(_rng.normal(size=(50, 4, 2)) * 3, 2).tolist(), "n_neurons": 32},
}


TUTORIAL = state_from_dict({})


def load(name: str) -> State:
    return state_from_dict(STATES[name])


def run_script(source: str, tmp: Path, tag: str) -> dict:
    """Run a script in a fresh interpreter; its stdout, stderr, exit status and dumped arrays."""
    script, dump = tmp / f"{tag}.py", tmp / f"{tag}.json"
    script.write_text(source, encoding="utf-8")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(script), str(dump), ",".join(WEIGHT_NAMES)],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    arrays = json.loads(dump.read_text()) if dump.exists() else {}
    return {
        "returncode": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
        "arrays": {name: np.array(value) for name, value in arrays.items()},
        "seconds": time.perf_counter() - started,
    }


def changed_wx(source: str) -> str:
    """The script with its first Wx literal multiplied by 1 + 1e-6."""
    match = re.search(r"^Wx(_init)? = np\.array\(\[\s*\[?(-?[0-9.e+-]+)", source, re.MULTILINE)
    assert match, "no Wx literal"
    old = match.group(2)
    new = repr(float(old) * (1 + 1e-6))
    start, end = match.span(2)
    return source[:start] + new + source[end:]


def run_all(jobs: dict[tuple, str]) -> dict[tuple, dict]:
    tmp = Path(tempfile.mkdtemp(prefix="codegen-"))
    try:
        with ThreadPoolExecutor(PARALLEL) as pool:
            futures = {key: pool.submit(run_script, src, tmp, "-".join(key)) for key, src in jobs.items()}
            return {key: future.result() for key, future in futures.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def jobs_for(styles: tuple[str, ...], changed: str) -> dict[tuple, str]:
    jobs = {(name, style): generate(load(name), style) for name in STATES for style in styles}
    jobs[("changed_wx", changed)] = changed_wx(jobs[("tutorial", changed)])
    return jobs


@pytest.fixture(scope="module")
def numpy_runs():
    return run_all(jobs_for(("numpy",), "numpy"))


@pytest.fixture(scope="module")
def tf_runs():
    started = time.perf_counter()
    runs = run_all(jobs_for(TF_STYLES, "tf1"))  # keras's check is the same code as numpy's
    seconds = sorted(run["seconds"] for run in runs.values())
    total = time.perf_counter() - started
    print(f"\n{len(runs)} TF scripts in {total:.0f} s, each {seconds[0]:.1f}-{seconds[-1]:.1f} s")
    return runs


def assert_matches_the_page(run: dict, name: str) -> None:
    assert run["returncode"] == 0, run["stderr"][-3000:]
    state = load(name)
    weights = state.resolved_weights()
    trace = reference.forward(state.inputs, weights, state.activation)
    arrays = run["arrays"]
    for weight in WEIGHT_NAMES:  # every literal round-trips exactly
        np.testing.assert_array_equal(arrays[weight], getattr(weights, weight), err_msg=weight)
    np.testing.assert_array_equal(arrays["X_batch"], state.inputs)
    lines = run["stdout"].splitlines()
    if chaos(state) <= CHAOS_MARGIN:
        assert lines[-1] == "matches the page"
        np.testing.assert_allclose(arrays["outputs"], trace.outputs, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(arrays["hidden"], trace.hidden, rtol=1e-9, atol=1e-12)
        assert lines[:-1] == printout_lines(state.inputs, trace.outputs)
    else:  # checked step by step from the page's y_(t-1); the free run may drift
        assert lines[-2] == "matches the page, step by step"
        np.testing.assert_allclose(arrays["step_outputs"], trace.outputs, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(arrays["step_hidden"], trace.hidden, rtol=1e-9, atol=1e-12)
        assert len(lines) == state.inputs.shape[1] + 2


def assert_fails_its_check(run: dict) -> None:
    assert run["returncode"] != 0
    assert "AssertionError" in run["stderr"]
    assert "Not equal to tolerance" in run["stderr"]
    assert "matches the page" not in run["stdout"]


# ---- numpy: fast ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(STATES))
def test_numpy_script_matches_the_page(numpy_runs, name):
    assert_matches_the_page(numpy_runs[(name, "numpy")], name)


def test_numpy_script_with_a_changed_weight_fails(numpy_runs):
    assert_fails_its_check(numpy_runs[("changed_wx", "numpy")])


# ---- TensorFlow: slow, run together --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("style", TF_STYLES)
@pytest.mark.parametrize("name", list(STATES))
def test_tf_script_matches_the_page(tf_runs, style, name):
    assert_matches_the_page(tf_runs[(name, style)], name)


@pytest.mark.slow
def test_tf1_script_with_a_changed_weight_fails(tf_runs):
    assert_fails_its_check(tf_runs[("changed_wx", "tf1")])


@pytest.mark.slow
def test_tf1_default_prints_the_tutorials_lines(tf_runs):
    state = TUTORIAL
    trace = reference.forward(state.inputs, state.resolved_weights(), state.activation)
    lines = tf_runs[("tutorial", "tf1")]["stdout"].splitlines()
    assert lines == [*printout_lines(state.inputs, trace.outputs), "matches the page"]
    assert lines[0].startswith("input0: [1 2] input1: [7 8] input2: [13 14] -> output0: [")
    output = r"output\d: \[-?\d\.\d\d\]"
    assert re.fullmatch(rf"(input\d: \[\d+ \d+\] ){{3}}-> {output}( {output}){{2}}", lines[0])


# ---- the text of the scripts ---------------------------------------------------------------------


def test_tf1_reads_like_the_tutorial():
    source = generate(TUTORIAL, "tf1")
    for line in (
        "import tensorflow.compat.v1 as tf",
        "tf.disable_eager_execution()",
        "X0 = tf.placeholder(tf.float64, [None, n_inputs])",
        "Wx = tf.Variable(Wx_init)",
        "y0 = tf.tanh(tf.matmul(X0, Wx) + b)",
        "y1 = tf.tanh(tf.matmul(y0, Wy) + tf.matmul(X1, Wx) + b)",
        "y2 = tf.tanh(tf.matmul(y1, Wy) + tf.matmul(X2, Wx) + b)",
        "out2 = tf.matmul(y2, Wo2) + bo2  # (batch, 1)",
        "with tf.Session() as sess:",
        "X0_batch = np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float64)  # t = 0",
        "np.testing.assert_allclose(outputs, expected_outputs, rtol=1e-9, atol=1e-12)",
    ):
        assert line in source.splitlines(), line
    relu = generate(state_from_dict({"activation": "relu", "shared_output": True}), "tf1")
    assert "y1 = tf.nn.relu(tf.matmul(y0, Wy) + tf.matmul(X1, Wx) + b)" in relu
    assert "out1 = tf.matmul(y1, Wo) + bo" in relu
    assert "tf.sigmoid(" in generate(state_from_dict({"activation": "sigmoid"}), "tf1")


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("name", list(STATES))
def test_scripts_stand_alone_and_compile(style, name):
    source = generate(load(name), style)
    compile(source, f"{name}-{style}.py", "exec")
    assert "rnn_core" not in source.replace("rnn_core.reference.forward", "")  # no import of this project
    assert "rtol=1e-9, atol=1e-12" in source


def test_scripts_pass_pyflakes():
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("no ruff next to the interpreter")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("tutorial", "explicit", "chaotic", "shared"):
            for style in STYLES:
                Path(tmp, f"{name}_{style}.py").write_text(generate(load(name), style))
        done = subprocess.run(
            [str(ruff), "check", "--isolated", "--select", "F,E9", tmp], capture_output=True, text=True
        )
    assert done.returncode == 0, done.stdout


def test_literals_are_exact_and_inf_is_written_as_numpy():
    state = state_from_dict({"weights": {"Wx": [[0.1, 1 / 3, -2e-308, 5e-324, 1e6, 0, 1, -1e-7]] * 2}})
    source = generate(state, "numpy")
    assert "[0.1, 0.3333333333333333, -2e-308, 5e-324, 1000000.0, 0.0, 1.0, -1e-07]," in source
    from rnn_core.codegen import _number

    assert [_number(x) for x in (np.inf, -np.inf, np.nan, 0.5)] == ["np.inf", "-np.inf", "np.nan", "0.5"]


def test_an_overflowing_network_still_matches(tmp_path):
    """relu with huge weights reaches inf and nan, and the script says so as the page does."""
    state = state_from_dict(
        {
            "activation": "relu",
            "inputs": [[[1e6]]] * 50,
            "weights": {"Wx": [[1e6] * 8], "Wy": [[1e6] * 8] * 8},
        }
    )
    with np.errstate(all="ignore"):
        trace = reference.forward(state.inputs, state.resolved_weights(), state.activation)
    assert np.isinf(trace.hidden).any()
    run = run_script(generate(state, "numpy"), tmp_path, "overflow")
    assert run["returncode"] == 0, run["stderr"]
    assert run["stdout"].splitlines()[-1] == "matches the page"


def test_a_chaotic_network_is_checked_step_by_step():
    assert chaos(TUTORIAL) < CHAOS_MARGIN
    assert chaos(load("chaotic")) > 100  # one rounding grows to far past the tolerance
    source = generate(load("chaotic"), "keras")
    assert "Rounding differences grow at every step" in source
    assert "initial_state=[previous[t]]" in source
    assert "Rounding differences grow" not in generate(TUTORIAL, "keras")


def test_large_networks_generate_quickly():
    state = state_from_dict({"n_neurons": 256})
    for style in STYLES:
        started = time.process_time()
        source = generate(state, style)
        assert time.process_time() - started < 1.0, style
        assert source.count("\n") > 256  # Wy: one row per line
    inputs = np.random.default_rng(0).normal(size=(50, 32, 8)).tolist()
    caps = state_from_dict({"inputs": inputs, "n_neurons": 256})
    started = time.process_time()
    source = generate(caps, "numpy")
    assert time.process_time() - started < 5.0  # 8.8 MB; 0.5 s idle, 1.3-3 s CPU on 2 busy shared cores
    assert "Rounding differences grow at every step" in source


def test_unknown_style_is_an_error():
    with pytest.raises(ValueError, match="style must be one of tf1, keras, numpy"):
        generate(TUTORIAL, "jax")


# ---- the weights for download --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tutorial", "shared", "explicit"])
def test_weights_npz_and_json_are_exact(name):
    state = load(name)
    weights = state.resolved_weights()
    npz = np.load(io.BytesIO(weights_npz(state)))
    assert sorted(npz.files) == sorted(WEIGHT_NAMES)
    data = json.loads(weights_json(state))
    assert list(data) == list(WEIGHT_NAMES)
    for weight in WEIGHT_NAMES:
        assert npz[weight].dtype == np.float64
        np.testing.assert_array_equal(npz[weight], getattr(weights, weight))
        np.testing.assert_array_equal(np.array(data[weight]), getattr(weights, weight))
    # the JSON is a state file's "weights": pasted back, the same network
    again = state_from_dict({**STATES[name], "weights": data}).resolved_weights()
    for weight in WEIGHT_NAMES:
        np.testing.assert_array_equal(getattr(again, weight), getattr(weights, weight))


# ---- the command line ----------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "rnn_core", "code", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_cli_prints_a_script_that_runs(tmp_path):
    done = run_cli("--style", "numpy")
    assert done.returncode == 0, done.stderr
    assert done.stdout == generate(TUTORIAL, "numpy")
    script = tmp_path / "rnn.py"
    script.write_text(done.stdout)
    ran = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == "matches the page"


def test_cli_reads_a_state_file_and_defaults_to_tf1(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(STATES["explicit"]))
    done = run_cli(str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout == generate(load("explicit"), "tf1")
    assert "import tensorflow.compat.v1 as tf" in done.stdout


def test_cli_bad_state_is_one_line_and_status_2(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"inputs": [[[1, "x"]]]}')
    done = run_cli(str(path), "--style", "keras")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().count("\n") == 0
    assert "inputs[0][0][1]" in done.stderr
    missing = run_cli(str(tmp_path / "missing.json"))
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0


def test_cli_unknown_style_is_a_usage_error():
    done = run_cli("--style", "jax")
    assert done.returncode == 2
    assert "invalid choice: 'jax'" in done.stderr
    assert done.stdout == ""
