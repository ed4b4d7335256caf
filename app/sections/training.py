"""Training: the controls (Train / Pause, Step ×1 ×10 ×100, Reset; learning rate, optimizer, clipping,
frozen weights, the step budget and the stop loss), the progress, and the loss curve.

A run is the engine's "train" job, run in slices in the worker. While it runs, a fragment polls the job
every POLL_S seconds and redraws the progress and the loss curve (a small partial rerun); at most every
FULL_S seconds, and when the run ends, it reruns the whole page: the trained weights become the state's
explicit weights (page memory), so every chart, the link and the files follow them.
`poll_training()` runs at the top of the page, before the state is built, so each run shows the newest
weights the job has reported. The learning rate (and the other settings) may change while it trains
(the worker's train_settings). Nothing here waits for the job.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from typing import Any

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from rnn_core import engine as engine_module
from rnn_core.config import StateError
from rnn_core.engine import EngineBusy, EngineError
from rnn_core.params import Weights
from rnn_core.reference import loss_of
from rnn_core.state import MAX_TRAIN_STEPS, OPTIMIZERS, WEIGHT_NAMES, State, TrainingSettings, read_training
from rnn_core.training import DIVERGED, DONE, REACHED

from .. import compute, page_state, render
from ..compute import Result
from ..figures import learn as learn_figures
from ..page_state import Training

POLL_S = 1.0  # how often a training page looks at its job and redraws the progress and the loss curve
WAIT_POLL_S = 2.0  # how often a page whose run waits for a training slot looks (the engine starts it)
FULL_S = 5.0  # how often, at most, the whole page follows a run (every heatmap, the link): a whole page
# run is the main cost of a training session to the server (bench/train_load.py)
KEEP_RUNS = 3  # earlier runs drawn as faded lines
LR_CHOICES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
KEYS = {
    "optimizer": "train_optimizer",
    "lr": "train_lr",
    "clip": "train_clip",
    "steps": "train_steps",
    "stop_loss": "train_stop_loss",
}
FREEZE_KEYS = {name: f"train_freeze_{name}" for name in WEIGHT_NAMES}
LOG_KEY = "train_log_scale"
KEEP = (*KEYS.values(), *FREEZE_KEYS.values(), LOG_KEY)  # the values kept while the chapter is closed
MAX_CLIP = 1e6
MAX_STOP_LOSS = 1e12
STEP_SIZES = (1, 10, 100)


def _training() -> Training:
    tr = page_state.memory().training
    if not tr.owner:
        tr.owner = f"session-{uuid.uuid4().hex}"
    return tr


def running() -> bool:
    """A run is going on (or waiting for a training slot)."""
    return page_state.memory().training.job_id is not None


def data_key(state: State) -> str:
    """What a run trains on, but not the weights: the inputs, targets, sizes and activation."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(repr((state.n_neurons, state.activation, state.shared_output, state.inputs.shape)).encode())
    digest.update(np.ascontiguousarray(state.inputs, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(state.resolved_targets(), dtype=np.float64).tobytes())
    return digest.hexdigest()


def weights_dict(weights: Weights) -> dict[str, np.ndarray]:
    return {name: np.array(getattr(weights, name), dtype=np.float64) for name in WEIGHT_NAMES}


# ---- the job: polling and applying its results ------------------------------------------------------


def poll_training() -> bool:
    """At the top of the page (and in the polling fragment): read the job, apply what it reported.
    Returns True when something changed (new weights, or the job ended)."""
    tr = _training()
    if tr.job_id is None:
        return False
    engine = compute.get_engine()
    try:
        status = engine.poll_job(tr.job_id)
    except KeyError:
        tr.job_id, tr.status, tr.queued = None, "paused", None
        page_state.notify("warning", "The training job had stopped (nobody polled it); press Train to go on.")
        return True
    queued, tr.queued = tr.queued, status.queued
    changed = _apply(tr, status.result) or queued != tr.queued
    for notice in status.notices:
        page_state.notify("info", notice)
    if status.done:
        tr.job_id = None
        _finish(tr, status.result, status.error)
        changed = True
    return changed


def _apply(tr: Training, result: dict | None) -> bool:
    if not result or result.get("step", -1) == tr.applied:
        return False
    losses = [float(v) for v in np.asarray(result["losses"]).tolist()]
    tr.losses = tr.start_losses + (losses[1:] if tr.start_losses else losses)
    tr.applied = int(result["step"])
    tr.opt = result["opt"]
    tr.unshown = True
    page_state.memory().weights = weights_dict(result["weights"])
    return True


def _finish(tr: Training, result: dict | None, error: str | None) -> None:
    status = (result or {}).get("status", "")
    message = (result or {}).get("message", "")
    if error == "cancelled":
        tr.status = "paused"
    elif error:
        tr.status = "paused"
        page_state.notify("error", f"Training stopped: {error}. The last weights it reported are kept.")
    elif status == DIVERGED:
        tr.status = DIVERGED
        page_state.notify("warning", f"Training diverged: {message}.")
    elif status == REACHED:
        tr.status = REACHED
        page_state.notify("info", f"Training stopped: {message}.")
    else:
        tr.status = DONE


def _start(state: State, steps: int) -> None:
    """Start (or go on with) the run as an engine job of `steps` updates."""
    tr = _training()
    mem = page_state.memory()
    if running():
        return
    if tr.before is None:
        tr.before = {name: w.copy() for name, w in mem.weights.items()}  # "Reset" goes back here
    if tr.status in (DIVERGED, REACHED, DONE) and tr.losses:  # a finished run: a new one (same weights)
        _close_run(tr)
    tr.start_losses = list(tr.losses)
    args = {
        "X": state.inputs,
        "weights": state.resolved_weights(),
        "activation": state.activation,
        "targets": state.resolved_targets(),
        "settings": state.training,
        "steps": steps,
        "opt": tr.opt,
    }
    key = f"{tr.owner}-{uuid.uuid4().hex[:8]}"
    try:  # every training slot taken: the job waits its turn in the engine (its status says where)
        job_id = compute.get_engine().start_job("train", owner=tr.owner, key=key, **args)
    except EngineBusy as err:
        page_state.notify("warning", f"The server is busy training for others ({err}).")
        return
    except EngineError as err:
        page_state.notify("error", f"Training could not start: {err}")
        return
    tr.job_id, tr.job_key, tr.data_key, tr.applied, tr.status = job_id, key, data_key(state), -1, "running"
    tr.queued = compute.get_engine().poll_job(job_id).queued


def _close_run(tr: Training) -> None:
    """Keep the finished run's curve (faded) and start a fresh one from the current weights."""
    if len(tr.losses) > 1:
        tr.runs = [*tr.runs, tr.losses][-KEEP_RUNS:]
    tr.losses, tr.start_losses, tr.opt, tr.status = [], [], None, ""


# ---- button callbacks (they run before the page, so the charts of that run already follow) ----------


def on_train(state: State) -> None:
    tr = _training()
    done = len(tr.losses) - 1 if tr.losses and tr.status == "paused" else 0
    remaining = state.training.steps - done if done < state.training.steps else state.training.steps
    _start(state, max(1, remaining))


def on_pause() -> None:
    tr = _training()
    if tr.job_id is None:
        return
    poll_training()  # take what the job has done so far
    if tr.job_id is not None:
        compute.get_engine().cancel_job(tr.job_id)
        tr.job_id, tr.status, tr.queued = None, "paused", None


def on_step(state: State, n: int) -> None:
    """A few steps at once, in one short call (no job)."""
    tr = _training()
    mem = page_state.memory()
    if running():
        return
    if tr.before is None:
        tr.before = {name: w.copy() for name, w in mem.weights.items()}
    if tr.status in (DIVERGED, REACHED, DONE):
        _close_run(tr)
    weights = state.resolved_weights()
    cost = engine_module.forward_cost(state.inputs, weights) * 3 * n
    try:
        result = compute.get_engine().call(
            "train_run",
            cost=cost,
            X=state.inputs,
            weights=weights,
            activation=state.activation,
            targets=state.resolved_targets(),
            settings=state.training,
            steps=n,
            opt=tr.opt,
        )
    except EngineError as err:
        page_state.notify("error", f"The training step failed: {err}")
        return
    for notice in result.notices:
        page_state.notify("info", notice)
    run = result.value
    losses = [float(v) for v in run.losses.tolist()]
    tr.losses = tr.losses + (losses[1:] if tr.losses else losses)
    tr.opt = run.opt
    mem.weights = weights_dict(run.weights)
    tr.status = "paused"
    if run.status == DIVERGED:
        tr.status = DIVERGED
        page_state.notify("warning", f"Training diverged: {run.message}.")
    elif run.status == REACHED:
        tr.status = REACHED
        page_state.notify("info", f"Training stopped: {run.message}.")


def on_reset() -> None:
    """Back to the weights before training (exactly: the explicit weights the page had then)."""
    tr = _training()
    mem = page_state.memory()
    on_pause()
    if tr.before is not None:
        mem.weights = {name: w.copy() for name, w in tr.before.items()}
    _close_run(tr)
    tr.before = None
    page_state.notify("info", "Reset to the weights before training.")


# ---- the settings widgets -----------------------------------------------------------------------


def _raw_settings() -> dict[str, Any]:
    """The widgets' values as a state's `training` object (0 means off for clip and stop loss)."""
    get = page_state.get
    default = TrainingSettings()
    freeze = []
    for name, key in FREEZE_KEYS.items():
        value = get(key, False)
        if not isinstance(value, bool):
            raise StateError("training.freeze", f"{name}: must be true or false, got {type(value).__name__}")
        if value:
            freeze.append(name)
    clip, stop = get(KEYS["clip"], 0.0), get(KEYS["stop_loss"], 0.0)
    for name, value, top in (("clip", clip, MAX_CLIP), ("stop_loss", stop, MAX_STOP_LOSS)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise StateError(f"training.{name}", "must be a finite number")
        if not 0 <= value <= top:
            raise StateError(f"training.{name}", f"must be between 0 (off) and {top:g}, got {value!r}")
    steps = get(KEYS["steps"], default.steps)
    if isinstance(steps, float) and steps.is_integer():
        steps = int(steps)
    return {
        "optimizer": get(KEYS["optimizer"], default.optimizer),
        "lr": get(KEYS["lr"], default.lr),
        "clip": float(clip) or None,
        "freeze": freeze,
        "steps": steps,
        "stop_loss": float(stop) or None,
    }


def _load_widgets(settings: TrainingSettings) -> None:
    """The settings into the widgets' keys (a bad stored widget state is dropped first)."""

    def put(key: str, value: Any) -> None:
        if key in st.session_state:
            del st.session_state[key]
        page_state.put(key, value)

    put(KEYS["optimizer"], settings.optimizer)
    put(KEYS["lr"], settings.lr)
    put(KEYS["clip"], float(settings.clip or 0.0))
    put(KEYS["steps"], int(settings.steps))
    put(KEYS["stop_loss"], float(max(0.0, settings.stop_loss or 0.0)))
    for name, key in FREEZE_KEYS.items():
        put(key, name in settings.freeze)


def check_settings() -> TrainingSettings:
    """Before the widgets are drawn: the state's settings (a loaded file or link) into the widgets, and
    whatever the widgets hold checked as a state file's `training` would be; a bad value (a crafted
    message may send anything) puts back the last good settings, with a notice."""
    mem = page_state.memory()
    tr = _training()
    loaded = mem.training_state if isinstance(mem.training_state, TrainingSettings) else TrainingSettings()
    if tr.widget_settings != loaded or KEYS["lr"] not in st.session_state:
        _load_widgets(loaded)
        tr.widget_settings = loaded
    try:
        return read_training(_raw_settings(), {})
    except (StateError, TypeError, ValueError, OverflowError) as err:
        page_state.notify("warning", f"{err}; kept the last training settings.")
        _load_widgets(loaded)
        return loaded


def settings_controls(settings: TrainingSettings) -> None:
    lr_options = sorted({*LR_CHOICES, settings.lr})
    a, b, c = st.columns([3, 1, 1])
    a.select_slider(
        "Learning rate",
        lr_options,
        key=KEYS["lr"],
        format_func=lambda v: f"{v:g}",
        help="Log-spaced. It may be changed while training: the next slice uses it.",
    )
    b.radio("Optimizer", OPTIMIZERS, key=KEYS["optimizer"], horizontal=True)
    c.number_input(
        "Clip gradient norm (0: off)", min_value=0.0, max_value=MAX_CLIP, step=0.5, key=KEYS["clip"]
    )
    d, e, f = st.columns([3, 1, 1])
    with d:
        st.markdown("Freeze (never change):")
        boxes = st.columns(len(FREEZE_KEYS))
        for box, (name, key) in zip(boxes, FREEZE_KEYS.items(), strict=True):
            box.checkbox(name, key=key)
    e.number_input("Step budget", min_value=1, max_value=MAX_TRAIN_STEPS, step=100, key=KEYS["steps"])
    f.number_input(
        "Stop at loss (0: off)",
        min_value=0.0,
        max_value=MAX_STOP_LOSS,
        step=0.001,
        format="%g",
        key=KEYS["stop_loss"],
    )


def _store_settings(tr: Training) -> TrainingSettings:
    """The widgets' settings into the state (and to the running job, when they changed)."""
    mem = page_state.memory()
    try:
        settings = read_training(_raw_settings(), {})
    except (StateError, TypeError, ValueError, OverflowError):
        return mem.training_state or TrainingSettings()
    if settings != tr.widget_settings and tr.job_id is not None:
        try:
            compute.get_engine().call("train_settings", key=tr.job_key, settings=settings)
        except EngineError as err:
            page_state.notify("warning", f"The new settings could not reach the running job: {err}")
    mem.training_state = settings
    tr.widget_settings = settings
    return settings


# ---- the section ---------------------------------------------------------------------------------


def _ticker() -> None:
    """Polls the job while it runs. What it reported reaches the whole page (every chart, the link) when
    the run ends, and otherwise at most every FULL_S seconds: a whole page run is costly."""
    ctx = get_script_run_ctx()
    if ctx is None or not ctx.fragment_ids_this_run:
        return  # a full run: prepare() has just polled (its notices are shown in this run)
    tr = _training()
    was_queued = tr.queued is not None
    poll_training()
    if was_queued and tr.queued is None:
        st.rerun(scope="app")  # its turn came: the page polls it often now (and shows its progress)
    if tr.job_id is None or (tr.unshown and time.monotonic() - tr.full_at >= FULL_S):
        st.rerun(scope="app")  # (an ended run: its notices and buttons belong to the whole page)


def prepare() -> None:
    """At the top of the page, before the state is built: the job's newest weights into the page
    memory, and the training widgets' values (checked) into the state's `training` settings."""
    tr = _training()
    poll_training()
    tr.unshown, tr.full_at = False, time.monotonic()
    if not isinstance(page_state.get(LOG_KEY, True), bool) or LOG_KEY not in st.session_state:
        page_state.put(LOG_KEY, True)
    check_settings()
    _store_settings(_training())


def stop_if_changed(state: State) -> None:
    """An edit of what the run trains on (inputs, targets, sizes, activation) pauses it."""
    tr = _training()
    if running() and data_key(state) != tr.data_key:
        on_pause()
        page_state.notify(
            "info", "Training paused: the inputs, targets or network changed. Press Train to go on."
        )


def keep_polling() -> None:
    """While a run goes on: the fragment that polls it (and reruns the page when it moved)."""
    if running():
        st.fragment(_ticker, run_every=_poll_every())()


def _poll_every() -> float:
    """A running job is polled every POLL_S; one waiting for a slot, every WAIT_POLL_S."""
    return POLL_S if _training().queued is None else WAIT_POLL_S


def _live(budget: int, current: float, style, seed: int, targets_set: bool = True) -> None:
    """The progress and the loss curve; while a run goes on, a fragment that also polls the job."""
    _ticker()
    tr = _training()
    steps_done = max(0, len(tr.losses) - 1)
    if tr.queued is not None:
        n = tr.queued
        ahead = f"{n} run{'s' if n != 1 else ''} before yours" if n else "yours is next"
        slots = engine_module.MAX_JOBS
        st.progress(0.0, text=f"Waiting for a free training slot (all {slots} are in use; {ahead})…")
    elif tr.job_id is not None:
        st.progress(min(1.0, steps_done / max(1, budget)), text=f"Training… step {steps_done} of {budget}")
    elif tr.losses:
        words = {DIVERGED: "diverged", REACHED: "reached the stop loss", DONE: "done", "paused": "paused"}
        st.caption(f"Step {steps_done} ({words.get(tr.status, tr.status)}); loss {tr.losses[-1]:.6g}.")
    else:
        st.caption(
            "Step 0: not trained yet. Press Train."
            if targets_set
            else "Step 0: not trained yet. Fill the targets (beside the inputs) with a task, then Train."
        )
    log = bool(page_state.get(LOG_KEY, True))
    image_format = page_state.get(page_state.IMAGE_FORMAT_KEY, "png")
    losses = tr.losses or [current]
    render.chart(learn_figures.loss_curve(losses, tr.runs, log, style), seed, "loss_curve", image_format)


def training_section(state: State, result: Result, style, present: bool) -> None:
    tr = _training()
    if not present:
        with st.container(key="editing_training"):
            settings_controls(state.training)
            buttons = st.columns(6)
            if not running():
                buttons[0].button(
                    "▶ Train", key="train_start", on_click=on_train, args=(state,), type="primary"
                )
            else:
                buttons[0].button("Pause", key="train_pause", on_click=on_pause, type="primary")
            for column, n in zip(buttons[1:4], STEP_SIZES, strict=True):
                column.button(
                    f"Step ×{n}",
                    key=f"train_step_{n}",
                    on_click=on_step,
                    args=(state, n),
                    disabled=running(),
                )
            buttons[4].button(
                "↺ Reset",
                key="train_reset",
                on_click=on_reset,
                disabled=tr.before is None,
                help="The weights before training.",
            )
            buttons[5].toggle("Log scale", key=LOG_KEY)
    targets = state.resolved_targets()
    outputs = result.trace.outputs
    current = loss_of(outputs, targets)
    image_format = page_state.get(page_state.IMAGE_FORMAT_KEY, "png")
    left, right = st.columns([3, 2])
    with left:
        if running():  # the progress and the loss curve follow the run every POLL_S
            st.fragment(_live, run_every=_poll_every())(state.training.steps, current, style, state.seed)
        else:
            _live(state.training.steps, current, style, state.seed, state.targets is not None)
    with right:
        render.chart(
            learn_figures.step_losses(outputs, targets, style), state.seed, "step_losses", image_format
        )
    render.chart(
        learn_figures.outputs_and_targets(outputs, targets, style),
        state.seed,
        "outputs_targets",
        image_format,
    )
