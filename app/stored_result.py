"""The tutorial's result as TensorFlow computed it, kept on disk: a fresh server shows its first page
without waiting ~5 s for TensorFlow to start (the cold start's longest part; docs/PERFORMANCE.md).

Only the tutorial's defaults (State()), the page every visitor opens first. The server stores them the
first time its worker computes them (app/compute.py), and the image's build stores them too, since the
container's file system is read-only at run time:

    python -m app.stored_result      # compute the tutorial's result with TensorFlow and store it

A stored result is TensorFlow's own output (its trace and SimpleRNN's), never numpy's. It is used only
when its key matches (the numbers' key, the TensorFlow and numpy versions, the model's code) and when
the cross-check, computed again on loading, finds it equal to the numpy reference: a stale, altered or
truncated file is ignored and the first page waits for TensorFlow as before. RNN_RESULT_STORE names the
directory ("off": no store).
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np

from rnn_core.crosscheck import CrossCheck, crosscheck
from rnn_core.params import Weights
from rnn_core.reference import Trace
from rnn_core.state import State, numbers_key

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = HERE.parent / ".cache" / "results"
FILE_NAME = "tutorial.npz"
MAX_BYTES = 1 << 20  # the tutorial's result is ~3 KB: anything larger is not one
ARRAYS = ("pre_activation", "hidden", "outputs", "simple_rnn")  # TF's trace, SimpleRNN's one-step y


def store_dir() -> Path | None:
    value = os.environ.get("RNN_RESULT_STORE", "")
    if value.lower() == "off":
        return None
    return Path(value) if value else DEFAULT_DIR


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "none"


def key() -> str:
    """What a stored result must have been computed with: the state's numbers, the libraries, the model."""
    model = (HERE.parent / "rnn_core" / "tf_model.py").read_bytes()
    tf = max(_version("tensorflow"), _version("tensorflow-cpu"))  # (one of the two is installed)
    parts = [numbers_key(State()), tf, np.__version__, hashlib.sha256(model).hexdigest()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def save(trace: Trace, simple_rnn: np.ndarray, directory: Path | None = None) -> Path | None:
    """Store TensorFlow's result for State() (atomically); its path, or None where nothing can be
    written (a read-only file system, or the store is off): the server goes on without it."""
    directory = directory or store_dir()
    if directory is None:
        return None
    buffer = io.BytesIO()
    one_step = np.asarray(simple_rnn, dtype=np.float64).reshape(trace.hidden.shape)  # (T, B, N)
    np.savez(
        buffer,
        key=np.array(key()),
        pre_activation=trace.pre_activation,
        hidden=trace.hidden,
        outputs=trace.outputs,
        simple_rnn=one_step,
    )
    path = directory / FILE_NAME
    try:
        directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(buffer.getvalue())
        partial.replace(path)  # atomic: a starting server never reads half a file
    except OSError as err:
        print(f"the tutorial's result could not be stored ({err}); cold starts wait for TF", file=sys.stderr)
        return None
    return path


def load(directory: Path | None = None) -> tuple[Trace, Weights, CrossCheck] | None:
    """(TensorFlow's trace for State(), its cross-check) from the store, or None when there is no
    usable one (missing, another key, the wrong shapes, or not equal to the numpy reference)."""
    directory = directory or store_dir()
    if directory is None:
        return None
    path = directory / FILE_NAME
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["key"]) != key():
                return None
            arrays = {name: np.array(stored[name], dtype=np.float64) for name in ARRAYS}
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):  # missing, cut, not an npz…
        return None
    state = State()
    T, B, _ = state.inputs.shape
    N = state.n_neurons
    shapes = {"pre_activation": (T, B, N), "hidden": (T, B, N), "outputs": (T, B), "simple_rnn": (T, B, N)}
    if any(arrays[name].shape != shape for name, shape in shapes.items()):
        return None
    trace = Trace(arrays["pre_activation"], arrays["hidden"], arrays["outputs"])
    weights = state.resolved_weights()
    check = crosscheck(state.inputs, weights, state.activation, trace, lambda *_: arrays["simple_rnn"])
    if not (check.numpy_equal and check.simple_rnn_equal):
        return None
    return trace, weights, check


def main() -> int:
    """Compute the tutorial's result in the TensorFlow worker and store it (the image's build step)."""
    from rnn_core.engine import shared_engine

    from . import compute

    compute.compute(State(), shared_engine(), compute.ResultCache())  # (stores it: app/compute.py)
    shared_engine().stop()
    directory = store_dir()
    found = load(directory) if directory is not None else None
    print(f"stored in {directory}" if found else "the tutorial's result was not stored (RNN_RESULT_STORE)")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
