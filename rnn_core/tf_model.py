"""The forward pass in TensorFlow, traced once for every size. Imported only by the worker."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .activations import NAMES
from .params import Weights
from .reference import Trace

ACTIVATION_INDEX = {name: i for i, name in enumerate(NAMES)}
FLOAT = tf.float64  # the page shows digits; float64 keeps TF and numpy equal to ~1e-15

SIGNATURE = [
    tf.TensorSpec([None, None, None], FLOAT, name="X"),  # (T, B, F)
    tf.TensorSpec([None, None], FLOAT, name="Wx"),  # (F, N)
    tf.TensorSpec([None, None], FLOAT, name="Wy"),  # (N, N)
    tf.TensorSpec([None], FLOAT, name="b"),  # (N,)
    tf.TensorSpec([None, None], FLOAT, name="Wo"),  # (T, N)
    tf.TensorSpec([None], FLOAT, name="bo"),  # (T,)
    tf.TensorSpec([], tf.int32, name="activation"),
]


def tf_activation(name: str):
    """The TensorFlow function of an activation of the registry (rnn_core.activations)."""
    from .activations import ACTIVATIONS

    fn = tf
    for part in ACTIVATIONS[name].tf_function.split("."):
        fn = getattr(fn, part)
    return fn


TF_ACTIVATIONS = tuple(tf_activation(name) for name in NAMES)  # in ACTIVATION_INDEX order


def _recurrence(XWx_b, Wy, act):
    """y_t = act(y_{t-1}·Wy + (X_t·Wx + b)) for every t; a graph while-loop writing to TensorArrays."""
    T, B = tf.shape(XWx_b)[0], tf.shape(XWx_b)[1]
    N = tf.shape(Wy)[0]
    pre = tf.TensorArray(FLOAT, size=T)
    hidden = tf.TensorArray(FLOAT, size=T)
    y = tf.zeros(tf.stack([B, N]), FLOAT)  # y_{-1} = 0, (B, N)
    for t in tf.range(T):
        z = tf.matmul(y, Wy) + XWx_b[t]  # (B, N)
        y = act(z)
        pre = pre.write(t, z)
        hidden = hidden.write(t, y)
    return pre.stack(), hidden.stack()  # (T, B, N) each


def _forward(X, Wx, Wy, b, Wo, bo, activation):
    XWx_b = tf.einsum("tbf,fn->tbn", X, Wx) + b  # (T, B, N): every input term at once
    # The activation is chosen once, outside the loop (a branch per step measured ~2x slower).
    branches = [lambda act=act: _recurrence(XWx_b, Wy, act) for act in TF_ACTIVATIONS]
    pre, hidden = tf.switch_case(activation, branches)
    outputs = tf.einsum("tbn,tn->tb", hidden, Wo) + bo[:, None]  # (T, B)
    return pre, hidden, outputs


forward_graph = tf.function(_forward, input_signature=SIGNATURE, reduce_retracing=True)
forward_xla = tf.function(_forward, input_signature=SIGNATURE, jit_compile=True)


def forward(X: np.ndarray, weights: Weights, activation: str = "tanh", xla: bool = False) -> Trace:
    """Same contract as reference.forward, computed by TensorFlow."""
    Wo, bo = weights.output_heads(X.shape[0])
    fn = forward_xla if xla else forward_graph
    pre, hidden, outputs = fn(X, weights.Wx, weights.Wy, weights.b, Wo, bo, ACTIVATION_INDEX[activation])
    return Trace(pre_activation=pre.numpy(), hidden=hidden.numpy(), outputs=outputs.numpy())


def trace_count() -> int:
    """How many concrete graphs forward_graph holds (1 means: never retraced)."""
    return forward_graph.experimental_get_tracing_count()


_simple_rnns: dict[tuple[int, int, str], tuple] = {}  # (F, N, activation) -> (layer, traced call)


def _simple_rnn(F: int, N: int, activation: str) -> tuple:
    """A float64 SimpleRNN layer and its call traced once (eager Keras calls cost ~10x more)."""
    key = (F, N, activation)
    if key not in _simple_rnns:
        if len(_simple_rnns) >= 16:
            _simple_rnns.clear()
        layer = tf.keras.layers.SimpleRNN(N, activation=activation, return_sequences=True, dtype="float64")
        layer.build((None, None, F))

        def call(x, initial_state):
            return layer(x, initial_state=[initial_state])

        signature = [tf.TensorSpec([None, None, F], FLOAT), tf.TensorSpec([None, N], FLOAT)]
        _simple_rnns[key] = (layer, tf.function(call, input_signature=signature))
    return _simple_rnns[key]


def simple_rnn_hidden(
    X: np.ndarray, weights: Weights, activation: str = "tanh", initial_state: np.ndarray | None = None
) -> np.ndarray:
    """Hidden states from tf.keras.layers.SimpleRNN with kernel=Wx, recurrent_kernel=Wy, bias=b.

    initial_state (B, N) replaces y_{-1} = 0 when given.
    """
    F, N = weights.Wx.shape
    layer, call = _simple_rnn(F, N, activation)
    layer.set_weights([weights.Wx, weights.Wy, weights.b])
    x = np.transpose(X, (1, 0, 2))  # SimpleRNN is batch-major: (B, T, F)
    if initial_state is None:
        initial_state = np.zeros((x.shape[0], N))
    hidden = call(x, initial_state)  # (B, T, N)
    return np.transpose(hidden.numpy(), (1, 0, 2))  # (T, B, N)
