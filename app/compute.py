"""The page's side of the computation: one shared engine, a bounded result cache, the cross-check."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import streamlit as st

from rnn_core import reference
from rnn_core.engine import Engine, EngineError, shared_engine
from rnn_core.params import Weights
from rnn_core.reference import Trace
from rnn_core.state import State, numbers_key

CACHE_BYTES = 64 * 2**20  # results kept for every session; one at the caps is ~7 MB


@dataclass(frozen=True)
class Result:
    """What the page shows: TensorFlow's trace, checked against numpy and SimpleRNN."""

    trace: Trace  # computed by TensorFlow in the worker
    weights: Weights
    diff_numpy: float  # largest |TF - numpy| per step (pre-activations, hidden states, outputs)
    diff_simple_rnn: float  # largest |TF - SimpleRNN| per step (hidden states)
    drift_numpy: float  # largest |TF - numpy| when numpy runs freely from y_{-1} = 0

    @property
    def nbytes(self) -> int:
        t = self.trace
        return t.hidden.nbytes * 2 + t.outputs.nbytes + self.weights.Wy.nbytes


class ResultCache:
    """A thread-safe LRU bounded by bytes, shared by every session of the server."""

    def __init__(self, max_bytes: int = CACHE_BYTES):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, Result] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Result | None:
        with self._lock:
            result = self._items.get(key)
            if result is not None:
                self._items.move_to_end(key)
            return result

    def put(self, key: str, result: Result) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = result
            self._bytes += result.nbytes
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._bytes -= old.nbytes


@st.cache_resource(show_spinner=False)
def get_engine() -> Engine:
    """The one TensorFlow worker of this server, shared by all sessions (started early by app.serve)."""
    return shared_engine()


@st.cache_resource(show_spinner=False)
def get_cache() -> ResultCache:
    return ResultCache()


fingerprint = numbers_key  # the cache key: every state field whose Spec says it changes the numbers


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def crosscheck(
    state: State, weights: Weights, trace: Trace, engine: Engine, notices: list[str] | None = None
) -> dict[str, float]:
    """Every TF step recomputed from TF's own y_{t-1} by numpy and by SimpleRNN (one call for all steps)."""
    X = state.inputs  # (T, B, F)
    T, B, F = X.shape
    prev = reference.previous_states(trace.hidden)  # (T, B, N): y_{t-1}
    pre, hidden = reference.one_step(X, weights, state.activation, prev)
    Wo, bo = weights.output_heads(T)
    outputs = np.einsum("tbn,tn->tb", trace.hidden, Wo) + bo[:, None]
    # SimpleRNN runs each (step, row) as its own one-step sequence starting from TF's y_{t-1}.
    reply = engine.simple_rnn_hidden(
        X.reshape(1, T * B, F), weights, state.activation, initial_state=prev.reshape(T * B, -1)
    )
    if notices is not None:
        notices.extend(reply.notices)
    one_step = reply.value.reshape(trace.hidden.shape)
    free = reference.forward(X, weights, state.activation)
    return {
        "diff_numpy": max(
            max_diff(trace.pre_activation, pre),
            max_diff(trace.hidden, hidden),
            max_diff(trace.outputs, outputs),
        ),
        "diff_simple_rnn": max_diff(trace.hidden, one_step),
        "drift_numpy": max(max_diff(trace.hidden, free.hidden), max_diff(trace.outputs, free.outputs)),
    }


def compute(state: State, engine: Engine, cache: ResultCache, notices: list[str] | None = None) -> Result:
    """The network's trace from TensorFlow, cross-checked; raises EngineError if TF cannot answer.

    The engine's notices for this caller (e.g. "the worker was restarted") are added to `notices`."""
    key = fingerprint(state)
    cached = cache.get(key)
    if cached is not None:
        return cached
    weights = state.resolved_weights()
    reply = engine.forward(state.inputs, weights, state.activation)
    if notices is not None:
        notices.extend(reply.notices)
    trace = reply.value
    result = Result(trace=trace, weights=weights, **crosscheck(state, weights, trace, engine, notices))
    cache.put(key, result)
    return result


def trace_csv(state: State, trace: Trace) -> str:
    """The trace as CSV (for the download button; built only when clicked)."""
    from .export import trace_csv as build

    return build(state, trace)


__all__ = ["EngineError", "Result", "compute", "get_cache", "get_engine"]
