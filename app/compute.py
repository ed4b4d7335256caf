"""The page's side of the computation: one shared engine, a bounded result cache, the cross-check."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import streamlit as st

from rnn_core.crosscheck import CrossCheck, crosscheck
from rnn_core.engine import Engine, EngineError, shared_engine
from rnn_core.params import Weights
from rnn_core.reference import Trace
from rnn_core.state import State, numbers_key

from . import run_slots, stored_result
from .shared_lru import SharedLRU

CACHE_BYTES = 64 * 2**20  # results kept for every session; one at the caps is ~7 MB


@dataclass(frozen=True)
class Result:
    """What the page shows: TensorFlow's trace, cross-checked against numpy and SimpleRNN."""

    trace: Trace  # computed by TensorFlow in the worker
    weights: Weights
    check: CrossCheck
    key: str  # numbers_key of the state it was computed for

    @property
    def nbytes(self) -> int:
        t = self.trace
        return t.hidden.nbytes * 2 + t.outputs.nbytes + self.weights.Wy.nbytes

    def fits(self, state: State) -> bool:
        """Computed for a network of the state's sizes (so the page can show it for this view)."""
        T, B, _ = state.inputs.shape
        return self.trace.hidden.shape == (T, B, state.n_neurons)


class ResultCache(SharedLRU[Result]):
    """The results computed, by numbers_key, shared by every session of the server."""

    def __init__(self, max_bytes: int = CACHE_BYTES):
        super().__init__(max_bytes, lambda result: result.nbytes)


@st.cache_resource(show_spinner=False)
def get_engine() -> Engine:
    """The one TensorFlow worker of this server, shared by all sessions (started early by app.serve).
    A run waiting for it gives its CPU slot to another run meanwhile (app/run_slots.py)."""
    engine = shared_engine()
    engine.while_waiting = run_slots.released
    return engine


@st.cache_resource(show_spinner=False)
def get_cache() -> ResultCache:
    """The server's result cache, holding the tutorial's stored result from the start (if there is one)."""
    cache = ResultCache()
    stored = stored_result.load()  # TensorFlow's, checked again: the first page needs no worker
    if stored is not None:
        cache.put(tutorial_key(), Result(*stored, key=tutorial_key()))
    return cache


def compute(state: State, engine: Engine, cache: ResultCache, notices: list[str] | None = None) -> Result:
    """The network's trace from TensorFlow, cross-checked; raises EngineError if TF cannot answer.

    The engine's notices for this caller's calls (e.g. "the worker was restarted") go to `notices`."""
    notices = [] if notices is None else notices
    key = numbers_key(state)  # every state field whose Spec says it changes the numbers
    cached = cache.get(key)
    if cached is not None:
        return cached
    weights = state.resolved_weights()
    trace = engine.forward(state.inputs, weights, state.activation).take(notices)
    one_step: list = []  # SimpleRNN's answer, kept for the store

    call_simple_rnn = values(engine.simple_rnn_hidden, notices)

    def simple_rnn(*args):
        one_step.append(call_simple_rnn(*args))
        return one_step[-1]

    check = crosscheck(state.inputs, weights, state.activation, trace, simple_rnn)
    result = Result(trace=trace, weights=weights, check=check, key=key)
    cache.put(key, result)
    if key == tutorial_key() and check.numpy_equal and check.simple_rnn_equal:
        stored_result.save(trace, one_step[0])  # the next server's first page needs no worker
    return result


@functools.cache
def tutorial_key() -> str:
    return numbers_key(State())


def values(call, notices: list[str]):
    """`call` returning its Reply's value, its notices added to `notices` (for code that wants values)."""
    return lambda *args, **kwargs: call(*args, **kwargs).take(notices)


def trace_csv(state: State, trace: Trace) -> str:
    """The trace as CSV (for the download button; built only when clicked)."""
    from .export import trace_csv as build

    return build(state, trace)


__all__ = ["EngineError", "Result", "compute", "get_cache", "get_engine"]
