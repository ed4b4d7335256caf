"""`python -m rnn_core grad` and `train`: in this process for the numpy engine, one real process (with
its TensorFlow worker) per command for the default engine."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from rnn_core import reference
from rnn_core.cli import main
from rnn_core.reference import GRAD_NAMES
from rnn_core.state import State, dump_state, state_from_dict


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def state_file(tmp_path):
    """A small network with targets and training settings of its own."""
    X = np.random.default_rng(0).normal(size=(4, 3, 2))
    state = State(inputs=X, n_neurons=5, seed=7, activation="sigmoid", shared_output=True, targets=X[:, :, 0])
    data = json.loads(dump_state(state))
    data["training"] = {"optimizer": "sgd", "lr": 0.5, "steps": 7}
    path = tmp_path / "state.json"
    path.write_text(json.dumps(data))
    return path


def test_grad_on_the_default_state(capsys):
    status, out, _ = run(capsys, "grad", "--engine", "numpy")
    assert status == 0
    result = json.loads(out)
    state = State()
    expected = reference.backward(state.inputs, state.resolved_weights(), "tanh", np.zeros((3, 3)))
    assert result["loss"] == expected.loss
    assert set(result["grads"]) == set(GRAD_NAMES)
    assert np.array(result["grads"]["Wo"]).shape == (3, 8)
    assert np.array(result["dL_dy"]).shape == (3, 3, 8)
    assert np.array(result["dout_dx"]).shape == (3, 3, 3, 2)


def test_grad_of_a_state_file_uses_its_targets(capsys, state_file):
    status, out, _ = run(capsys, "grad", str(state_file), "--engine", "numpy")
    assert status == 0
    state = state_from_dict(json.loads(state_file.read_text()))
    expected = reference.backward(state.inputs, state.resolved_weights(), "sigmoid", state.resolved_targets())
    result = json.loads(out)
    assert result["loss"] == expected.loss
    assert np.array(result["grads"]["Wo"]).shape == (5,) and np.array(result["grads"]["bo"]).shape == (1,)


def test_train_output_is_a_state_that_reproduces_its_last_loss(capsys, state_file):
    status, out, _ = run(capsys, "train", str(state_file), "--engine", "numpy", "--lr", "0.2")
    assert status == 0
    result = json.loads(out)
    assert len(result["loss"]) == 8  # the state's 7 steps, plus the loss before training
    assert result["state"]["training"]["lr"] == 0.2 and result["state"]["training"]["optimizer"] == "sgd"
    trained = state_from_dict(result["state"])
    assert set(trained.weights) == set(GRAD_NAMES)
    outputs = reference.forward(trained.inputs, trained.resolved_weights(), trained.activation).outputs
    assert reference.loss_of(outputs, trained.resolved_targets()) == result["loss"][-1]
    assert result["loss"][-1] < result["loss"][0]


def test_train_defaults_and_frozen_weights(capsys):
    status, out, _ = run(
        capsys, "train", "--engine", "numpy", "--steps", "5", "--freeze", "Wy,b", "--clip", "1"
    )
    assert status == 0
    result = json.loads(out)
    assert len(result["loss"]) == 6
    assert result["state"]["training"] == {
        "optimizer": "adam", "lr": 0.01, "clip": 1.0, "freeze": ["Wy", "b"], "steps": 5, "stop_loss": None,
    }  # fmt: skip
    default = State().resolved_weights()
    trained = state_from_dict(result["state"]).resolved_weights()
    assert np.array_equal(trained.Wy, default.Wy) and np.array_equal(trained.b, default.b)
    assert not np.array_equal(trained.Wx, default.Wx)


def test_a_diverging_run_prints_the_last_finite_state_and_exits_1(capsys, tmp_path):
    state = State(activation="relu", weight_scale=3.0, targets=np.full((3, 3), 1e5))
    path = tmp_path / "wild.json"
    path.write_text(dump_state(state))
    status, out, err = run(
        capsys, "train", str(path), "--engine", "numpy", "--optimizer", "sgd", "--lr", "100"
    )
    assert status == 1
    assert err.startswith("error: training stopped: ") and err.count("\n") == 1
    assert "the loss became" in err or "a weight grew past" in err
    result = json.loads(out)
    trained = state_from_dict(result["state"])
    outputs = reference.forward(trained.inputs, trained.resolved_weights(), "relu").outputs
    assert np.isfinite(result["loss"]).all()
    assert reference.loss_of(outputs, trained.resolved_targets()) == result["loss"][-1]


@pytest.mark.parametrize(
    "argv, names",
    [
        (["--steps", "0"], "--steps"),
        (["--steps", "100001"], "--steps"),
        (["--steps", "ten"], "--steps"),
        (["--lr", "0"], "--lr"),
        (["--lr", "101"], "--lr"),
        (["--lr", "fast"], "--lr"),
        (["--optimizer", "rmsprop"], "--optimizer"),
        (["--freeze", "Wx,Wz"], "Wz"),
        (["--clip", "-1"], "--clip"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys, argv, names):
    status, out, err = run(capsys, "train", "--engine", "numpy", *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and names in err


def test_targets_of_the_wrong_shape_exit_2(capsys, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"targets": [[0, 0, 0], [0, 0, 0]]}))
    for command in ("grad", "train"):
        status, out, err = run(capsys, command, str(path), "--engine", "numpy")
        assert status == 2 and out == "" and err.count("\n") == 1 and "targets" in err


def cli(*argv) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnn_core", *argv], capture_output=True, text=True, timeout=180, check=False
    )


@pytest.mark.slow
def test_tensorflow_engine_agrees_with_numpy(capsys, state_file):
    grad = cli("grad", str(state_file))
    assert grad.returncode == 0, grad.stderr
    state = state_from_dict(json.loads(state_file.read_text()))
    expected = reference.backward(state.inputs, state.resolved_weights(), "sigmoid", state.resolved_targets())
    result = json.loads(grad.stdout)
    for name in GRAD_NAMES:
        np.testing.assert_allclose(result["grads"][name], expected.grads[name], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(result["dout_dx"], expected.dout_dx, rtol=1e-9, atol=1e-12)

    tf_run = cli("train", str(state_file), "--steps", "50", "--optimizer", "adam")
    assert tf_run.returncode == 0, tf_run.stderr
    assert main(["train", str(state_file), "--steps", "50", "--optimizer", "adam", "--engine", "numpy"]) == 0
    tf_loss, np_loss = json.loads(tf_run.stdout)["loss"], json.loads(capsys.readouterr().out)["loss"]
    assert len(tf_loss) == 51
    np.testing.assert_allclose(tf_loss, np_loss, rtol=1e-9)
