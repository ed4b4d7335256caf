"""Gradients and training in TensorFlow (GradientTape, float64). Imported only by the worker.

Every function is traced once per activation, with an input signature of unknown sizes, so changing
steps, rows, features or neurons never retraces. The output head is passed as Wo (H, N), bo (H,) with
H = T (a head per step) or H = 1 (shared): tf.broadcast_to makes both (T, N), and its gradient sums a
shared head over the steps by itself.

A training slice is one traced loop (`for i in tf.range(k)` inside the tf.function) that runs up to k
updates and returns the k + 1 losses, the new weights and the optimizer's slots; the learning rate and
the clip norm are tensors, so changing them between slices does not retrace.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import tensorflow as tf

from .activations import NAMES
from .config import MAX_ABS_WEIGHT
from .params import Weights
from .reference import GRAD_NAMES, Grads
from .state import TrainingSettings
from .tf_model import FLOAT, tf_activation
from .training import (
    BETA_1,
    BETA_1_POWER,
    BETA_2,
    BETA_2_POWER,
    DIVERGED,
    DONE,
    EPSILON,
    REACHED,
    OptState,
    TrainResult,
    diverged_message,
    reached_message,
)

WEIGHTS_SPEC = [
    tf.TensorSpec([None, None], FLOAT, name="Wx"),  # (F, N)
    tf.TensorSpec([None, None], FLOAT, name="Wy"),  # (N, N)
    tf.TensorSpec([None], FLOAT, name="b"),  # (N,)
    tf.TensorSpec([None, None], FLOAT, name="Wo"),  # (H, N), H = T or 1 (shared)
    tf.TensorSpec([None], FLOAT, name="bo"),  # (H,)
]
DATA_SPEC = [
    tf.TensorSpec([None, None, None], FLOAT, name="X"),  # (T, B, F)
    tf.TensorSpec([None, None], FLOAT, name="targets"),  # (T, B)
]


def _outputs(X, Wx, Wy, b, Wo, bo, act, eps=None):
    """out (T, B) and y (T, B, N) of the forward pass; eps (T, B, N), when given, is added to every y_t
    (zeros: its gradient is the total dL/dy_t, through out_t and through every later step)."""
    T, B = tf.shape(X)[0], tf.shape(X)[1]
    N = tf.shape(Wy)[0]
    XWx_b = tf.einsum("tbf,fn->tbn", X, Wx) + b  # (T, B, N)
    hidden = tf.TensorArray(FLOAT, size=T)
    y = tf.zeros(tf.stack([B, N]), FLOAT)  # y_{-1} = 0
    for t in tf.range(T):
        y = act(tf.matmul(y, Wy) + XWx_b[t])  # (B, N)
        if eps is not None:
            y = y + eps[t]
        hidden = hidden.write(t, y)
    hidden = hidden.stack()  # (T, B, N)
    Wo_t = tf.broadcast_to(Wo, tf.stack([T, N]))  # (T, N)
    bo_t = tf.broadcast_to(bo, tf.stack([T]))  # (T,)
    return tf.einsum("tbn,tn->tb", hidden, Wo_t) + bo_t[:, None], hidden


def _loss(out, targets):
    return tf.reduce_mean(tf.square(out - targets))


# ---- gradients ---------------------------------------------------------------------------------


def _make_grad(act):
    @tf.function(input_signature=[*DATA_SPEC, *WEIGHTS_SPEC])
    def grad(X, targets, Wx, Wy, b, Wo, bo):
        weights = [Wx, Wy, b, Wo, bo]
        T, B = tf.shape(X)[0], tf.shape(X)[1]
        eps = tf.zeros(tf.stack([T, B, tf.shape(Wy)[0]]), FLOAT)  # (T, B, N)
        with tf.GradientTape() as tape:
            tape.watch([*weights, eps])
            out, _ = _outputs(X, *weights, act, eps)
            loss = _loss(out, targets)
        *dW, dL_dy = tape.gradient(loss, [*weights, eps])
        # ∂out_t[r]/∂X_k[r, f] for every t at once: T copies of the batch, copy s seeded by out_s only.
        # Rows never mix, so the gradient of Σ_s Σ_r out_s[r] (copy s) by copy s of X is row r's own.
        X_copies = tf.tile(X[None], tf.stack([T, 1, 1, 1]))  # (T copies, T, B, F)
        with tf.GradientTape() as tape:
            tape.watch(X_copies)
            rows = tf.reshape(tf.transpose(X_copies, [1, 0, 2, 3]), tf.stack([T, T * B, -1]))  # (T, T·B, F)
            out, _ = _outputs(rows, *weights, act)  # (T, T·B)
            seeded = tf.reduce_sum(tf.reshape(out, tf.stack([T, T, B])) * tf.eye(T, dtype=FLOAT)[:, :, None])
        dout_dx = tape.gradient(seeded, X_copies)  # (t, k, B, F)
        return loss, dW, dL_dy, dout_dx

    return grad


GRAD = {name: _make_grad(tf_activation(name)) for name in NAMES}


def _heads(weights: Weights) -> list[np.ndarray]:
    """[Wx, Wy, b, Wo (H, N), bo (H,)]: a shared head as H = 1."""
    Wo = weights.Wo[None] if weights.shared_output else weights.Wo
    return [weights.Wx, weights.Wy, weights.b, Wo, weights.bo]


def _as_weights(arrays, like: Weights) -> dict[str, np.ndarray]:
    """The five arrays back in the layout of `like` (a shared head back to (N,), (1,))."""
    return {
        name: np.reshape(np.asarray(a), getattr(like, name).shape)
        for name, a in zip(GRAD_NAMES, arrays, strict=True)
    }


def backward(X: np.ndarray, weights: Weights, activation: str, targets: np.ndarray) -> Grads:
    """Same contract as reference.backward, computed by TensorFlow's GradientTape."""
    loss, dW, dL_dy, dout_dx = GRAD[activation](X, targets, *_heads(weights))
    return Grads(float(loss), _as_weights(dW, weights), dL_dy.numpy(), dout_dx.numpy())


def grad_trace_count() -> int:
    return sum(fn.experimental_get_tracing_count() for fn in GRAD.values())


# ---- training ----------------------------------------------------------------------------------

SLICE_SPEC = [
    *DATA_SPEC,
    *WEIGHTS_SPEC,
    tf.TensorSpec([5], tf.bool, name="trainable"),  # per weight, in GRAD_NAMES order
    tf.TensorSpec([], tf.int64, name="iterations"),  # updates applied so far (Adam's bias correction)
    *[tf.TensorSpec(s.shape, FLOAT, name=f"m_{s.name}") for s in WEIGHTS_SPEC],
    *[tf.TensorSpec(s.shape, FLOAT, name=f"v_{s.name}") for s in WEIGHTS_SPEC],
    tf.TensorSpec([], tf.bool, name="adam"),  # False: SGD
    tf.TensorSpec([], FLOAT, name="lr"),
    tf.TensorSpec([], FLOAT, name="clip"),  # ≤ 0: no clipping
    tf.TensorSpec([], FLOAT, name="stop_loss"),  # -inf: never
    tf.TensorSpec([], tf.int32, name="k"),  # the most updates this slice takes
]


def _adam(W, g, m, v, t, lr):
    """Keras 3 Adam's update_step, written out (the same formula as training.adam_update)."""
    lr = tf.cast(tf.cast(lr, tf.float32), FLOAT)  # Keras keeps its learning rate in a float32 variable
    alpha = (
        lr
        * tf.sqrt(1.0 - tf.pow(tf.constant(BETA_2_POWER, FLOAT), t))
        / (1.0 - tf.pow(tf.constant(BETA_1_POWER, FLOAT), t))
    )
    m = m + (g - m) * (1.0 - BETA_1)
    v = v + (tf.square(g) - v) * (1.0 - BETA_2)
    return W - (m * alpha) / (tf.sqrt(v) + EPSILON), m, v


def _make_slice(act):
    @tf.function(input_signature=SLICE_SPEC)
    def train_slice(X, targets, Wx, Wy, b, Wo, bo, trainable, iterations, *rest):
        adam, lr, clip, stop_loss, k = rest[10:]
        # All five weights as one flat vector theta (and Adam's m, v likewise): one update of a few
        # elementwise ops per step instead of a few per weight (measured: ~30% less CPU per step).
        shapes = [tf.shape(W_j) for W_j in (Wx, Wy, b, Wo, bo)]
        sizes = tf.stack([tf.reduce_prod(shape) for shape in shapes])

        def flat(arrays):
            return tf.concat([tf.reshape(a, [-1]) for a in arrays], 0)

        def unflat(vector):
            return [
                tf.reshape(p, shape) for p, shape in zip(tf.split(vector, sizes, num=5), shapes, strict=True)
            ]

        frozen = ~flat([tf.fill(shapes[j], trainable[j]) for j in range(5)])  # (P,) bool

        def value_and_grad(theta):
            with tf.GradientTape() as tape:
                tape.watch(theta)
                loss = _loss(_outputs(X, *unflat(theta), act)[0], targets)
            return loss, tape.gradient(loss, theta)

        def update(theta, m, v, g, iterations):
            """One step of every trainable weight (no branches: both rules, then selects)."""
            g = tf.where(frozen, tf.zeros_like(g), g)
            norm = tf.norm(g)  # of the trainable gradients, as tf.clip_by_global_norm computes it
            scale = clip * tf.minimum(1.0 / norm, 1.0 / clip) + (norm - norm)  # NaN for an inf norm, as TF
            g = g * tf.where(clip > 0, scale, 1.0)
            new_theta, new_m, new_v = _adam(theta, g, m, v, tf.cast(iterations + 1, FLOAT), lr)
            new_theta = tf.where(adam, new_theta, theta - lr * g)
            keep = frozen | ~adam
            # frozen: the very same numbers (bit-identical), moments untouched
            return tf.where(frozen, theta, new_theta), tf.where(keep, m, new_m), tf.where(keep, v, new_v)

        def go_on(i, theta, m, v, g, loss, iterations, diverged, losses):
            return (i < k) & ~diverged & (loss > stop_loss)

        def body(i, theta, m, v, g, loss, iterations, diverged, losses):
            new_theta, new_m, new_v = update(theta, m, v, g, iterations)
            new_loss, new_g = value_and_grad(new_theta)
            largest = tf.reduce_max(tf.abs(new_theta))
            ok = tf.math.is_finite(new_loss) & (
                largest <= MAX_ABS_WEIGHT
            )  # not: theta, m, v stay as they were
            losses = losses.write(i + 1, new_loss)
            return (
                i + 1, tf.where(ok, new_theta, theta), tf.where(ok, new_m, m), tf.where(ok, new_v, v),
                tf.where(ok, new_g, g), tf.where(ok, new_loss, loss), iterations + tf.cast(ok, tf.int64), ~ok,
                losses,
            )  # fmt: skip

        theta = flat([Wx, Wy, b, Wo, bo])
        loss, g = value_and_grad(theta)
        losses = tf.TensorArray(FLOAT, size=k + 1).write(0, loss)
        start = (
            tf.constant(0),
            theta,
            flat(rest[0:5]),
            flat(rest[5:10]),
            g,
            loss,
            iterations,
            tf.constant(False),
            losses,
        )
        i, theta, m, v, _, loss, iterations, diverged, losses = tf.while_loop(go_on, body, start)
        losses = losses.stack()[: i + 1]  # a diverged run's last entry is the loss that was not finite
        return losses, unflat(theta), iterations, unflat(m), unflat(v), diverged, loss

    return train_slice


SLICE = {name: _make_slice(tf_activation(name)) for name in NAMES}


def train_slice(
    X: np.ndarray,
    weights: Weights,
    activation: str,
    targets: np.ndarray,
    settings: TrainingSettings,
    k: int,
    opt: OptState | None = None,
) -> TrainResult:
    """Up to k updates in one traced loop; the same contract as training.train (losses[0] is the loss
    before the slice)."""
    opt = OptState.zeros(weights) if opt is None else opt
    heads = _heads(weights)
    like = dict(zip(GRAD_NAMES, heads, strict=True))
    m = [np.reshape(opt.m[name], like[name].shape) for name in GRAD_NAMES]
    v = [np.reshape(opt.v[name], like[name].shape) for name in GRAD_NAMES]
    trainable = np.array([name not in settings.freeze for name in GRAD_NAMES])
    losses, W, iterations, m, v, diverged, _ = SLICE[activation](
        X, targets, *heads, trainable, np.int64(opt.iterations), *m, *v,
        settings.optimizer == "adam", float(settings.lr),
        -1.0 if settings.clip is None else float(settings.clip),
        -np.inf if settings.stop_loss is None else float(settings.stop_loss),
        np.int32(k),
    )  # fmt: skip
    losses, diverged = losses.numpy(), bool(diverged)
    new_weights = replace(weights, **_as_weights(W, weights))
    new_opt = OptState(int(iterations), _as_weights(m, weights), _as_weights(v, weights))
    if not np.isfinite(losses[0]):
        return TrainResult(weights, opt, losses[:0], DIVERGED, "the loss is not finite before training")
    if diverged:
        message = diverged_message(new_opt.iterations + 1, float(losses[-1]))
        return TrainResult(new_weights, new_opt, losses[:-1], DIVERGED, message)
    if settings.stop_loss is not None and losses[-1] <= settings.stop_loss:
        message = reached_message(new_opt.iterations, losses[-1])
        return TrainResult(new_weights, new_opt, losses, REACHED, message)
    return TrainResult(new_weights, new_opt, losses, DONE)


def slice_trace_count() -> int:
    return sum(fn.experimental_get_tracing_count() for fn in SLICE.values())


# ---- the training job: slices of ~SLICE_S each, weights and optimizer state carried between them --

SLICE_S = 0.03  # target duration of one slice (the engine serves other calls between slices)
FIRST_K = 20
MAX_K = 20_000
_live: weakref.WeakValueDictionary[str, TrainJob] = weakref.WeakValueDictionary()  # key -> job


class TrainJob:
    """worker.JOBS["train"]: an iterator of (progress, result); each next() runs one slice of k updates,
    k adapted so that a slice takes about SLICE_S.

    The result is cumulative (the engine keeps only the latest): step (updates done), total, losses
    (every loss so far: before training, then after each update), weights, opt (to continue later),
    settings, status ("running", DONE, DIVERGED, REACHED) and message. The last slice ends the
    iterator with the final result. `settings` may change between slices (update_settings, by the
    job's key): lr, clip, freeze and the optimizer are tensors of the traced loop, nothing retraces.
    """

    def __init__(
        self,
        X: np.ndarray,
        weights: Weights,
        activation: str,
        targets: np.ndarray,
        settings: TrainingSettings,
        steps: int | None = None,
        opt: OptState | None = None,
        key: str | None = None,
    ):
        self.X, self.targets, self.activation = X, targets, activation
        self.weights, self.settings = weights, settings
        self.total = settings.steps if steps is None else steps
        self.opt = OptState.zeros(weights) if opt is None else opt
        self.done, self.k = 0, FIRST_K
        self.losses: list[float] = []
        self.status, self.message = "running", ""
        if key is not None:
            _live[key] = self

    def __iter__(self) -> Iterator[tuple[float, dict]]:
        return self

    def __next__(self) -> tuple[float, dict]:
        if self.status != "running":
            raise StopIteration
        k = min(self.k, self.total - self.done)
        start = time.perf_counter()
        result = train_slice(self.X, self.weights, self.activation, self.targets, self.settings, k, self.opt)
        elapsed = time.perf_counter() - start
        self.losses.extend((result.losses if not self.losses else result.losses[1:]).tolist())
        self.weights, self.opt = result.weights, result.opt
        self.done += result.steps
        if result.status == DONE and elapsed > 0:  # aim the next slice at SLICE_S
            self.k = int(min(MAX_K, max(1, k * min(4.0, SLICE_S / elapsed))))
        self.status, self.message = result.status, result.message
        if self.status == DONE and self.done < self.total:
            self.status = "running"
        report = self.result()
        if self.status != "running":
            raise StopIteration(report)  # the engine takes this as the final result, in this same slice
        return self.done / self.total, report

    def result(self) -> dict:
        return {
            "step": self.done,
            "total": self.total,
            "losses": np.array(self.losses),
            "weights": self.weights,
            "opt": self.opt,
            "settings": self.settings,
            "status": self.status,
            "message": self.message,
        }


def update_settings(key: str, settings: TrainingSettings) -> bool:
    """worker.OPS["train_settings"]: new settings for the running job `key`, from its next slice on.
    False when no such job is running."""
    job = _live.get(key)
    if job is None or job.status != "running":
        return False
    job.settings = settings
    return True


def train(X, weights, activation, targets, settings: TrainingSettings, steps=None, opt=None) -> TrainResult:
    """The whole run in one call (one slice): the same contract as training.train."""
    steps = settings.steps if steps is None else steps
    return train_slice(X, weights, activation, targets, settings, steps, opt)
