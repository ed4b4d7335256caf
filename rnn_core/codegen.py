"""The network of a state as a runnable Python script: TensorFlow 1 (the tutorial's style), Keras, or numpy.

Every weight and input is written as a float64 literal (repr round-trips exactly). Each script ends by
checking its numbers against the page's: the trace of rnn_core.reference.forward, embedded as literals
when the script is generated. Pure: no TensorFlow is imported here.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, replace

import numpy as np

from . import reference
from .params import Weights
from .state import State

STYLES = ("tf1", "keras", "numpy")
WEIGHT_NAMES = ("Wx", "Wy", "b", "Wo", "bo")  # as in the state file's "weights"
RTOL, ATOL = 1e-9, 1e-12  # the scripts' check
TOLERANCE = "rtol=1e-9, atol=1e-12"  # as written in the scripts
CHAOS_MARGIN = 1e-3  # a 1-ulp change of the weights may grow to this fraction of the tolerance, no more
UNROLL_MAX_STEPS = 5  # tf1: up to this many steps, X0, y0, out0 ... are written out as in the tutorial

TF_ACTIVATIONS = {"tanh": "tf.tanh", "relu": "tf.nn.relu", "sigmoid": "tf.sigmoid"}
NUMPY_ACTIVATIONS = {
    "tanh": ["act = np.tanh", ""],
    "relu": ["def act(z):", "    return np.maximum(z, 0.0)", "", ""],
    "sigmoid": [
        "def act(z):",
        "    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow",
        "",
        "",
    ],
}


# ---- literals ----------------------------------------------------------------------------------


def _number(x: float) -> str:
    """repr of a float64 (round-trips exactly); inf and nan as numpy names."""
    if np.isfinite(x):
        return repr(x)
    return "np.nan" if np.isnan(x) else ("np.inf" if x > 0 else "-np.inf")


def _input_number(x: float) -> str:
    """Whole numbers as the page shows them (1, not 1.0); the rest exactly."""
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _row(values: np.ndarray, fmt=_number) -> str:
    if fmt is _number and np.isfinite(values).all():
        return "[" + ", ".join(map(repr, values.tolist())) + "]"  # the fast path: 65,536 floats in ~20 ms
    return "[" + ", ".join(fmt(x) for x in values.tolist()) + "]"


def _nested(array: np.ndarray, indent: int, fmt=_number, labels: list[str] | None = None) -> str:
    """One innermost row per line; labels comment the outer blocks (a step each)."""
    if array.ndim == 1:
        return _row(array, fmt)
    items = []
    for i, sub in enumerate(array):
        text = _nested(sub, indent + 4, fmt)
        if labels and sub.ndim > 1:
            text = f"[  # {labels[i]}" + text[1:]  # text starts with "[\n"
        items.append(" " * (indent + 4) + text + ",")
    return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"


def _array(name: str, array: np.ndarray, comment: str = "", fmt=_number, labels=None) -> str:
    dtype = ", dtype=np.float64" if fmt is _input_number else ""
    comment = f"  # {comment}" if comment else ""
    if array.ndim == 1:
        return f"{name} = np.array({_row(array, fmt)}{dtype}){comment}"
    if array.ndim == 2 and array.size <= 16:  # a small matrix reads best on one line, as in the tutorial
        one_line = f"{name} = np.array([{', '.join(_row(row, fmt) for row in array)}]{dtype}){comment}"
        if len(one_line) <= 100:
            return one_line
    return f"{name} = np.array({_nested(array, 0, fmt, labels)}{dtype}){comment}"


# ---- the network, once -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Network:
    state: State
    weights: Weights
    trace: reference.Trace
    chaos: float  # how far a 1-ulp change of Wx and Wy grows, as a fraction of the tolerance

    @property
    def chaotic(self) -> bool:
        return self.chaos > CHAOS_MARGIN

    @property
    def sizes(self) -> tuple[int, int, int, int]:
        T, B, F = self.state.inputs.shape
        return T, B, F, self.state.n_neurons


def _excess(expected: np.ndarray, got: np.ndarray) -> float:
    """max |got - expected| / (ATOL + RTOL |expected|), equal infinities and nans counting as equal."""
    with np.errstate(invalid="ignore", over="ignore"):
        same = (got == expected) | (np.isnan(got) & np.isnan(expected))
        ratio = np.abs(got - expected) / (ATOL + RTOL * np.abs(expected))
    ratio = np.where(same, 0.0, ratio)
    return float(np.nan_to_num(ratio, nan=np.inf).max()) if ratio.size else 0.0


def chaos(state: State, weights: Weights | None = None, trace: reference.Trace | None = None) -> float:
    """How much a change of one rounding (1 ulp) in every Wx and Wy grows by the last step, in tolerances.

    Another library sums in another order, which changes results by about that much; in a chaotic network
    the difference grows several-fold per step, so a free run can only be checked step by step.
    """
    weights = weights or state.resolved_weights()
    rng = np.random.default_rng(0)

    def nudge(a: np.ndarray) -> np.ndarray:
        return np.nextafter(a, np.where(rng.random(a.shape) < 0.5, -np.inf, np.inf))

    nudged = replace(weights, Wx=nudge(weights.Wx), Wy=nudge(weights.Wy))
    with np.errstate(all="ignore"):  # a relu network may overflow
        trace = trace or reference.forward(state.inputs, weights, state.activation)
        other = reference.forward(state.inputs, nudged, state.activation)
    return max(_excess(trace.hidden, other.hidden), _excess(trace.outputs, other.outputs))


def _network(state: State) -> _Network:
    weights = state.resolved_weights()
    with np.errstate(all="ignore"):  # a relu network may overflow: the script shows that as the page does
        trace = reference.forward(state.inputs, weights, state.activation)
    return _Network(state, weights, trace, chaos(state, weights, trace))


# ---- the parts every script shares -----------------------------------------------------------

STYLE_TITLES = {
    "tf1": "TensorFlow 1 graph code, as the tutorial writes it (runs on TensorFlow 2 through tf.compat.v1)",
    "keras": "TensorFlow 2 / Keras: tf.keras.layers.SimpleRNN with the same weights",
    "numpy": "plain numpy: the recurrence in a few lines",
}
REQUIRES = {"tf1": "numpy, tensorflow", "keras": "numpy, tensorflow", "numpy": "numpy"}


def _header(net: _Network, style: str) -> list[str]:
    T, B, F, N = net.sizes
    state = net.state
    heads = "one output layer shared by all steps" if state.shared_output else "one output layer per step"
    act = state.activation
    return [
        '"""RNN, step by step: the page\'s network as a script.',
        "",
        f"{STYLE_TITLES[style]}.",
        f"{T} step{'s' * (T != 1)} x {B} row{'s' * (B != 1)} x {F} feature{'s' * (F != 1)}, "
        f"{N} neuron{'s' * (N != 1)}, {act}, {heads}.",
        f"    y_t = {act}(y_(t-1) @ Wy + X_t @ Wx + b), with y_(-1) = 0 (so y0 has no Wy term)",
        "    out_t = y_t @ Wo_t + bo_t" + ("  (one Wo, bo for every step)" if state.shared_output else ""),
        f"The weights are the page's, exactly (seed {state.seed} unless set explicitly).",
        f"Needs {REQUIRES[style]}. It prints the tutorial's printout, then checks every number against",
        'the page and prints "matches the page".',
        '"""',
        "",
    ]


def _sizes(net: _Network) -> list[str]:
    T, B, F, N = net.sizes
    return [f"n_steps = {T}", f"batch = {B}", f"n_inputs = {F}", f"n_neurons = {N}", ""]


def _weight_literals(net: _Network, suffix: str = "") -> list[str]:
    w = net.weights
    shared = net.state.shared_output
    head = "(n_neurons,): one head for every step" if shared else "(n_steps, n_neurons): Wo_t is Wo[t]"
    bias = "(1,)" if shared else "(n_steps,): bo_t is bo[t]"
    return [
        "# The weights, exactly (repr of float64 round-trips).",
        _array(f"Wx{suffix}", w.Wx, "(n_inputs, n_neurons)"),
        _array(f"Wy{suffix}", w.Wy, "(n_neurons, n_neurons)"),
        _array(f"b{suffix}", w.b, "(n_neurons,)"),
        _array(f"Wo{suffix}", w.Wo, head),
        _array(f"bo{suffix}", w.bo, bias),
        "",
    ]


def _step_labels(T: int) -> list[str]:
    return [f"X{t}" for t in range(T)]


def _inputs_literal(net: _Network, name: str = "X_batch") -> list[str]:
    X = net.state.inputs
    comment = "(n_steps, batch, n_inputs): X_batch[t] is X_t"
    return [_array(name, X, comment, _input_number, _step_labels(len(X)))]


PRINTOUT = [
    "",
    "",
    "def number(x):",
    '    """1 for a whole number, as the page and the tutorial print it; the rest exactly."""',
    "    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))",
    "",
    "",
    "def vector(values):",
    '    return "[" + " ".join(number(x) for x in values) + "]"',
    "",
    "",
    "# The tutorial's printout: one line per row.",
    "for row in range(batch):",
    '    ins = " ".join(f"input{t}: {vector(X_batch[t][row])}" for t in range(n_steps))',
    '    outs = " ".join(f"output{t}: [{outputs[t][row]:.2f}]" for t in range(n_steps))',
    '    print(ins, "->", outs)',
]


def _expected(net: _Network) -> list[str]:
    T = net.sizes[0]
    labels = [f"y{t}" for t in range(T)]
    return [
        "",
        "# The page's numbers (rnn_core.reference.forward when this script was generated).",
        _array("expected_outputs", net.trace.outputs, "(n_steps, batch): out_t of every row"),
        _array("expected_hidden", net.trace.hidden, "(n_steps, batch, n_neurons): y_t", labels=labels),
        "",
    ]


TOLERANCE_COMMENT = (
    f"# {TOLERANCE}: float64 libraries differ by about 1e-15 (another summation order);\n"
    "# far above rounding, far below the 2 to 4 digits the page shows."
)


def _free_check() -> list[str]:
    return [
        TOLERANCE_COMMENT,
        f"np.testing.assert_allclose(outputs, expected_outputs, {TOLERANCE})",
        f"np.testing.assert_allclose(hidden, expected_hidden, {TOLERANCE})",
        'print("matches the page")',
    ]


def _chaos_comment(net: _Network) -> list[str]:
    return [
        "# Rounding differences grow at every step in this network: one rounding (1e-16) changed in Wx",
        f"# and Wy becomes {_times(net.chaos)} times the tolerance by the last step (over {CHAOS_MARGIN:g}).",
        "# Run freely, another library's numbers (another summation order) may drift from the page's,",
        "# and that is not an error. So each step is checked from the page's own y_(t-1), as the page's",
        "# cross-check does: act(expected_hidden[t-1] @ Wy + X_t @ Wx + b).",
    ]


def _times(x: float) -> str:
    """300 rather than 3e+02; one significant digit."""
    rounded = float(f"{x:.1g}")
    return f"{rounded:,.0f}" if rounded >= 1 else f"{rounded:g}"


def _stepwise_check() -> list[str]:
    return [
        "",
        TOLERANCE_COMMENT,
        f"np.testing.assert_allclose(step_outputs, expected_outputs, {TOLERANCE})",
        f"np.testing.assert_allclose(step_hidden, expected_hidden, {TOLERANCE})",
        'print("matches the page, step by step")',
        "drift = np.nanmax(np.abs(outputs - expected_outputs))",
        'print(f"(run freely, the outputs end up to {drift:.2g} from the page\'s: rounding grows here)")',
    ]


def _head(net: _Network, y: str) -> str:
    """out_t for step t as a numpy expression of y_t."""
    return f"{y} @ Wo + bo[0]" if net.state.shared_output else f"{y} @ Wo[t] + bo[t]"


def _check(net: _Network, stepwise: list[str]) -> list[str]:
    """The free run checked; for a chaotic network, each step from the page's y_(t-1) instead."""
    if not net.chaotic:
        return _free_check()
    return [*_chaos_comment(net), *stepwise, *_stepwise_check()]


# ---- numpy -----------------------------------------------------------------------------------


def _numpy(net: _Network) -> list[str]:
    state = net.state
    lines = ["import numpy as np", "", *_sizes(net), *_weight_literals(net), *_inputs_literal(net), ""]
    stepwise = [
        "previous = np.concatenate([np.zeros((1, batch, n_neurons)), expected_hidden[:-1]])  # y_(t-1)",
        "step_hidden = act(previous @ Wy + X_batch @ Wx + b)  # every step at once",
        f"step_outputs = np.stack([{_head(net, 'step_hidden[t]')} for t in range(n_steps)])",
    ]
    return [
        *lines,
        *NUMPY_ACTIVATIONS[state.activation],
        "y = np.zeros((batch, n_neurons))  # y_(-1) = 0",
        "hidden, outputs = [], []",
        "for t in range(n_steps):",
        "    y = act(y @ Wy + X_batch[t] @ Wx + b)  # (batch, n_neurons)",
        "    hidden.append(y)",
        f"    outputs.append({_head(net, 'y')})  # (batch,)",
        "hidden = np.stack(hidden)  # (n_steps, batch, n_neurons)",
        "outputs = np.stack(outputs)  # (n_steps, batch)",
        *PRINTOUT,
        *_expected(net),
        *_check(net, stepwise),
    ]


# ---- keras -----------------------------------------------------------------------------------


def _keras(net: _Network) -> list[str]:
    state = net.state
    heads = "shared by every step" if state.shared_output else "of each step"
    layer = f'n_neurons, activation="{state.activation}", return_sequences=True, dtype="float64"'
    stepwise = [
        "previous = np.concatenate([np.zeros((1, batch, n_neurons)), expected_hidden[:-1]])  # y_(t-1)",
        "# SimpleRNN over each step alone, from the page's y_(t-1): initial_state replaces y_(-1) = 0",
        "step_hidden = np.stack(",
        "    [rnn(x[:, t : t + 1], initial_state=[previous[t]]).numpy()[:, 0] for t in range(n_steps)]",
        ")",
        f"step_outputs = np.stack([{_head(net, 'step_hidden[t]')} for t in range(n_steps)])",
    ]
    return [
        "import numpy as np",
        "import tensorflow as tf",
        "",
        *_sizes(net),
        *_weight_literals(net),
        *_inputs_literal(net),
        "x = X_batch.transpose(1, 0, 2)  # (batch, n_steps, n_inputs): Keras is batch-major",
        "",
        f"rnn = tf.keras.layers.SimpleRNN({layer})",
        "rnn.build((None, None, n_inputs))",
        "rnn.set_weights([Wx, Wy, b])  # kernel = Wx, recurrent_kernel = Wy, bias = b",
        "hidden = rnn(x).numpy().transpose(1, 0, 2)  # (n_steps, batch, n_neurons): y_t is hidden[t]",
        "",
        f"# The output layer {heads} (tf.layers.dense in the tutorial): out_t = y_t @ Wo_t + bo_t",
        f"outputs = np.stack([{_head(net, 'hidden[t]')} for t in range(n_steps)])  # (n_steps, batch)",
        *PRINTOUT,
        *_expected(net),
        *_check(net, stepwise),
    ]


# ---- tf1 -------------------------------------------------------------------------------------


def _tf1_unrolled(net: _Network) -> tuple[list[str], list[str]]:
    """X0, X1, ..., y0, y1, ..., out0, out1, ... written out, as in the tutorial."""
    T = net.sizes[0]
    act = TF_ACTIVATIONS[net.state.activation]
    shared = net.state.shared_output
    X = net.state.inputs
    lines = [f"X{t} = tf.placeholder(tf.float64, [None, n_inputs])" for t in range(T)]
    lines += [
        "",
        "Wx = tf.Variable(Wx_init)",
        "Wy = tf.Variable(Wy_init)",
        "b = tf.Variable(b_init.reshape(1, n_neurons))",
        "",
        f"y0 = {act}(tf.matmul(X0, Wx) + b)",
    ]
    lines += [f"y{t} = {act}(tf.matmul(y{t - 1}, Wy) + tf.matmul(X{t}, Wx) + b)" for t in range(1, T)]
    lines += ["", *_tf1_heads_comment(shared)]
    if shared:
        lines += ["Wo = tf.Variable(Wo_init.reshape(n_neurons, 1))", "bo = tf.Variable(bo_init)"]
        lines += [f"out{t} = tf.matmul(y{t}, Wo) + bo" for t in range(T)]
    else:
        for t in range(T):
            lines += [
                f"Wo{t} = tf.Variable(Wo_init[{t}].reshape(n_neurons, 1))",
                f"bo{t} = tf.Variable(bo_init[{t}:{t + 1}])",
                f"out{t} = tf.matmul(y{t}, Wo{t}) + bo{t}  # (batch, 1)",
            ]
    lines += ["", "init = tf.global_variables_initializer()", ""]
    for t in range(T):
        lines.append(_array(f"X{t}_batch", X[t], f"t = {t}", _input_number))
    names = ", ".join(f"X{t}_batch" for t in range(T))
    feed = ", ".join(f"X{t}: X{t}_batch" for t in range(T))
    ys = ", ".join(f"y{t}" for t in range(T))
    outs = ", ".join(f"out{t}" for t in range(T))
    lines += [
        f"X_batch = [{names}]",
        "",
        "with tf.Session() as sess:",
        "    init.run()",
        f"    hidden, outputs = sess.run([[{ys}], [{outs}]], feed_dict={{{feed}}})",
        "hidden = np.array(hidden)  # (n_steps, batch, n_neurons)",
        "outputs = np.array(outputs)[:, :, 0]  # (n_steps, batch)",
    ]
    lists = [f"X, y, out = [{', '.join(f'X{t}' for t in range(T))}], [{ys}], [{outs}]"]
    return lines, lists


def _tf1_heads_comment(shared: bool) -> list[str]:
    if shared:
        return ["# One output layer for every step (tf.layers.dense, gone with Keras 3, written out)."]
    return [
        "# The tutorial's tf.layers.dense(y_t, 1) makes a new layer at each step; tf.layers is gone with",
        "# Keras 3, so each is written out: out_t = y_t @ Wo_t + bo_t.",
    ]


def _tf1_loop(net: _Network) -> tuple[list[str], list[str]]:
    """A Python loop over a list of placeholders, for many steps."""
    act = TF_ACTIVATIONS[net.state.activation]
    shared = net.state.shared_output
    lines = [
        'X = [tf.placeholder(tf.float64, [None, n_inputs], name=f"X{t}") for t in range(n_steps)]',
        "",
        "Wx = tf.Variable(Wx_init)",
        "Wy = tf.Variable(Wy_init)",
        "b = tf.Variable(b_init.reshape(1, n_neurons))",
        "",
        f"y = [{act}(tf.matmul(X[0], Wx) + b)]  # y0 has no Wy term",
        "for t in range(1, n_steps):",
        f"    y.append({act}(tf.matmul(y[t - 1], Wy) + tf.matmul(X[t], Wx) + b))",
        "",
        *_tf1_heads_comment(shared),
    ]
    if shared:
        lines += [
            "Wo = tf.Variable(Wo_init.reshape(n_neurons, 1))",
            "bo = tf.Variable(bo_init)",
            "out = [tf.matmul(y[t], Wo) + bo for t in range(n_steps)]  # (batch, 1) each",
        ]
    else:
        lines += [
            "Wo = [tf.Variable(Wo_init[t].reshape(n_neurons, 1)) for t in range(n_steps)]",
            "bo = [tf.Variable(bo_init[t : t + 1]) for t in range(n_steps)]",
            "out = [tf.matmul(y[t], Wo[t]) + bo[t] for t in range(n_steps)]  # (batch, 1) each",
        ]
    lines += [
        "",
        "init = tf.global_variables_initializer()",
        "",
        *_inputs_literal(net),
        "",
        "with tf.Session() as sess:",
        "    init.run()",
        "    hidden, outputs = sess.run([y, out], feed_dict=dict(zip(X, X_batch)))",
        "hidden = np.array(hidden)  # (n_steps, batch, n_neurons)",
        "outputs = np.array(outputs)[:, :, 0]  # (n_steps, batch)",
    ]
    return lines, []


def _tf1(net: _Network) -> list[str]:
    lines = [
        "import numpy as np",
        "import tensorflow.compat.v1 as tf",
        "",
        "tf.disable_eager_execution()",
        "",
        *_sizes(net),
        *_weight_literals(net, "_init"),
    ]
    graph, lists = _tf1_unrolled(net) if net.sizes[0] <= UNROLL_MAX_STEPS else _tf1_loop(net)
    stepwise = [
        "# feed_dict can feed any tensor: y[t-1] gets the page's value.",
        *lists,
        "with tf.Session() as sess:",
        "    init.run()",
        "    step_hidden, step_outputs = [], []",
        "    for t in range(n_steps):",
        "        feed = {X[t]: X_batch[t], **({y[t - 1]: expected_hidden[t - 1]} if t else {})}",
        "        y_t, out_t = sess.run([y[t], out[t]], feed_dict=feed)",
        "        step_hidden.append(y_t)",
        "        step_outputs.append(out_t[:, 0])",
    ]
    return [*lines, *graph, *PRINTOUT, *_expected(net), *_check(net, stepwise)]


# ---- the public functions --------------------------------------------------------------------

BUILDERS = {"tf1": _tf1, "keras": _keras, "numpy": _numpy}


def generate(state: State, style: str = "tf1") -> str:
    """A complete, runnable Python script for the state's network, checking itself against the page."""
    if style not in BUILDERS:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r}")
    net = _network(state)
    return "\n".join([*_header(net, style), *BUILDERS[style](net)]) + "\n"


def weights_npz(state: State) -> bytes:
    """The weights as a numpy .npz (np.load(...)["Wx"] ...), float64, in the state's layout."""
    weights = state.resolved_weights()
    buffer = io.BytesIO()
    np.savez(buffer, **{name: getattr(weights, name) for name in WEIGHT_NAMES})
    return buffer.getvalue()


def weights_json(state: State) -> str:
    """The weights as JSON, the state file's "weights" object (floats exact: JSON uses repr)."""
    weights = state.resolved_weights()
    return json.dumps({name: getattr(weights, name).tolist() for name in WEIGHT_NAMES}, allow_nan=False)
