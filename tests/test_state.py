"""The JSON state and the share link: round trips, defaults, and every way a state can be wrong."""

from __future__ import annotations

import base64
import json
import math
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnn_core import reference
from rnn_core.config import RNNConfig
from rnn_core.params import init_weights
from rnn_core.state import (
    KNOWN_KEYS,
    MAX_LINK_CHARS,
    MAX_STATE_CHARS,
    SPECS,
    State,
    StateError,
    TrainingSettings,
    View,
    decode_link,
    dump_state,
    encode_link,
    encode_links,
    load_state,
    numbers_key,
    state_from_dict,
    state_to_dict,
)

TUTORIAL_TABLE = [
    [[1, 2], [3, 4], [5, 6]],
    [[7, 8], [9, 10], [11, 12]],
    [[13, 14], [15, 16], [17, 18]],
]


def assert_same_state(a: State, b: State) -> None:
    assert a.inputs.shape == b.inputs.shape
    assert a.inputs.dtype == b.inputs.dtype == np.float64
    np.testing.assert_array_equal(a.inputs, b.inputs)
    assert (a.n_neurons, a.seed, a.activation) == (b.n_neurons, b.seed, b.activation)
    assert (a.shared_output, a.weight_scale, a.view) == (b.shared_output, b.weight_scale, b.view)
    assert sorted(a.weights) == sorted(b.weights)
    for name in a.weights:
        assert a.weights[name].shape == b.weights[name].shape, name
        np.testing.assert_array_equal(a.weights[name], b.weights[name])
    assert (a.pinned is None) == (b.pinned is None)
    if a.pinned is not None:
        assert_same_state(a.pinned, b.pinned)


def assert_state_error(fn, *args, field: str) -> StateError:
    with pytest.raises(StateError) as info:
        fn(*args)
    message = str(info.value)
    assert field in message, f"{field!r} not named in {message!r}"
    assert "\n" not in message
    return info.value


# ---- round trips -----------------------------------------------------------------------------


def test_default_state_round_trips():
    state = State()
    assert_same_state(load_state(dump_state(state)), state)
    assert_same_state(load_state(dump_state(state, indent=None)), state)
    assert_same_state(decode_link(encode_link(state)), state)
    assert_same_state(state_from_dict(json.loads(json.dumps(state_to_dict(state)))), state)


def test_dump_is_plain_json_in_the_documented_layout():
    data = json.loads(dump_state(State()))
    assert data["version"] == 1
    assert data["inputs"] == TUTORIAL_TABLE
    assert data["n_neurons"] == 8
    assert data["activation"] == "tanh"
    assert data["shared_output"] is False
    assert "weights" not in data  # seeded weights are not written out
    assert "view" not in data  # the default view is not written out


def test_link_of_the_tutorial_state_is_short():
    link = encode_link(State())
    assert len(link) < 600
    assert set(link) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def link_as_first_written(state: State) -> str:
    """The link format as encode_link wrote it on its own (before encode_links): an independent writer."""
    data = {k: v for k, v in state_to_dict(state).items() if k == "version" or SPECS[k].link}
    data["view"] = vars(state.view).copy()
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).rstrip(b"=").decode("ascii")


def floats(max_abs: float):
    return st.floats(-max_abs, max_abs, allow_nan=False, allow_infinity=False)


@st.composite
def states(draw) -> State:
    T, B, F, N = (
        draw(st.integers(1, 5)),
        draw(st.integers(1, 4)),
        draw(st.integers(1, 3)),
        draw(st.integers(1, 6)),
    )
    shared = draw(st.booleans())
    inputs = np.array(draw(st.lists(floats(1e6), min_size=T * B * F, max_size=T * B * F))).reshape(T, B, F)
    shapes = {
        "Wx": (F, N),
        "Wy": (N, N),
        "b": (N,),
        "Wo": (N,) if shared else (T, N),
        "bo": (1,) if shared else (T,),
    }
    names = draw(st.sets(st.sampled_from(sorted(shapes))))
    weights = {}
    for name in sorted(names):
        size = math.prod(shapes[name])
        weights[name] = np.array(draw(st.lists(floats(1e6), min_size=size, max_size=size))).reshape(
            shapes[name]
        )
    view = View(
        step=draw(st.integers(0, T - 1)),
        row=draw(st.integers(0, B - 1)),
        neuron=draw(st.integers(0, N - 1)),
        present=draw(st.booleans()),
    )
    return State(
        inputs=inputs,
        n_neurons=N,
        seed=draw(st.integers(0, 2**32 - 1)),
        activation=draw(st.sampled_from(["tanh", "relu", "sigmoid"])),
        shared_output=shared,
        weight_scale=draw(st.one_of(st.floats(0, 10), st.integers(0, 10))),
        weights=weights,
        view=view,
    )


@settings(max_examples=60, deadline=None)
@given(states())
def test_random_states_round_trip(state):
    assert_same_state(load_state(dump_state(state)), state)
    assert_same_state(load_state(dump_state(state, indent=None)), state)
    assert_same_state(decode_link(encode_link(state)), state)
    # and the reloaded state computes the same numbers
    again = decode_link(encode_link(state))
    a, b = state.resolved_weights(), again.resolved_weights()
    for name in ("Wx", "Wy", "b", "Wo", "bo"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_negative_zero_and_tiny_numbers_survive():
    inputs = np.array([[[-0.0, 5e-324, -1e-300, 0.1]], [[1e6, -1e6, 123456.78901234567, 2.0**-40]]])
    state = State(inputs=inputs, view=View(step=1))
    again = load_state(dump_state(state))
    np.testing.assert_array_equal(again.inputs, inputs)
    assert again.inputs.tolist() == inputs.tolist()
    assert again.view == View(step=1)


# ---- defaults and explicit weights -------------------------------------------------------------


def test_missing_keys_take_the_tutorial_defaults():
    state = load_state("{}")
    assert state.inputs.tolist() == TUTORIAL_TABLE
    assert state.n_neurons == 8
    assert state.seed == State().seed
    assert state.activation == "tanh"
    assert state.shared_output is False
    assert state.weight_scale == 1.0
    assert state.weights == {}
    assert state.view == View()


def test_some_keys_given_the_rest_default():
    state = load_state('{"n_neurons": 4, "activation": "relu", "view": {"neuron": 3}}')
    assert state.n_neurons == 4
    assert state.activation == "relu"
    assert state.inputs.tolist() == TUTORIAL_TABLE
    assert state.view == View(neuron=3)
    assert state.resolved_weights().Wy.shape == (4, 4)


def test_whole_floats_are_accepted_for_counts():
    state = load_state('{"n_neurons": 4.0, "seed": 7.0}')
    assert state.n_neurons == 4 and isinstance(state.n_neurons, int)
    assert state.seed == 7 and isinstance(state.seed, int)


def test_explicit_weights_win_over_the_seed():
    Wx = [[0.5, -1, 2], [3, 0, -0.25]]
    Wy = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    b = [0.1, 0.2, 0.3]
    Wo = [[1, 1, 1], [2, 2, 2], [3, 3, 3]]
    bo = [0, 1, 2]
    text = json.dumps(
        {"n_neurons": 3, "seed": 5, "weights": {"Wx": Wx, "Wy": Wy, "b": b, "Wo": Wo, "bo": bo}}
    )
    for seed in (5, 6):
        data = json.loads(text)
        data["seed"] = seed
        weights = state_from_dict(data).resolved_weights()
        assert weights.Wx.tolist() == Wx
        assert weights.Wy.tolist() == Wy
        assert weights.b.tolist() == b
        assert weights.Wo.tolist() == Wo
        assert weights.bo.tolist() == bo
    # the forward pass uses them: y0 = tanh(X0·Wx + b) with these numbers
    state = state_from_dict(json.loads(text))
    trace = reference.forward(state.inputs, state.resolved_weights())
    x = [1, 2]
    y0 = [math.tanh(x[0] * Wx[0][n] + x[1] * Wx[1][n] + b[n]) for n in range(3)]
    np.testing.assert_allclose(trace.hidden[0, 0], y0, atol=1e-15)
    np.testing.assert_allclose(trace.outputs[0, 0], sum(y0), atol=1e-15)


def test_partial_weights_keep_the_rest_seeded():
    Wy = [[0.0, 1.0], [1.0, 0.0]]
    state = load_state(json.dumps({"n_neurons": 2, "seed": 9, "weights": {"Wy": Wy}}))
    weights = state.resolved_weights()
    seeded = init_weights(RNNConfig(n_neurons=2), 9)
    assert weights.Wy.tolist() == Wy
    assert not np.array_equal(seeded.Wy, weights.Wy)
    for name in ("Wx", "b", "Wo", "bo"):
        np.testing.assert_array_equal(getattr(weights, name), getattr(seeded, name))


def test_shared_output_weights_load_in_their_shape():
    state = load_state(
        json.dumps({"n_neurons": 2, "shared_output": True, "weights": {"Wo": [1, -1], "bo": [0.5]}})
    )
    weights = state.resolved_weights()
    assert weights.shared_output
    trace = reference.forward(state.inputs, weights)
    np.testing.assert_allclose(trace.outputs, trace.hidden[..., 0] - trace.hidden[..., 1] + 0.5, atol=1e-15)


# ---- bad states --------------------------------------------------------------------------------


def inputs_of(T: int, B: int, F: int) -> list:
    return np.ones((T, B, F)).tolist()


BAD_STATES = [
    # (case, JSON text, what the message must name)
    ("malformed JSON", '{"inputs": [[[1, 2]]', "json"),
    ("not JSON at all", "inputs = 3", "json"),
    ("empty text", "", "json"),
    ("not an object", "[1, 2, 3]", "state"),
    ("wrong Wx shape", '{"weights": {"Wx": [[1, 2, 3]]}}', "weights.Wx"),
    ("wrong Wy rows", '{"n_neurons": 2, "weights": {"Wy": [[1, 2]]}}', "weights.Wy"),
    ("Wy not a matrix", '{"n_neurons": 2, "weights": {"Wy": [1, 2]}}', "weights.Wy[0]"),
    ("b too long", '{"n_neurons": 2, "weights": {"b": [1, 2, 3]}}', "weights.b"),
    ("ragged rows", '{"inputs": [[[1, 2], [3]]]}', "inputs[0][1]"),
    ("ragged steps", '{"inputs": [[[1, 2], [3, 4]], [[5, 6]]]}', "inputs[1]"),
    ("inputs too deep", '{"inputs": [[[[1], [2]]]]}', "inputs[0][0][0]"),
    ("inputs flat", '{"inputs": [1, 2, 3]}', "inputs"),
    ("inputs empty", '{"inputs": []}', "inputs"),
    ("inputs empty rows", '{"inputs": [[]]}', "inputs"),
    ("inputs an object", '{"inputs": {"a": 1}}', "inputs"),
    ("text in an input", '{"inputs": [[[1, "2"]]]}', "inputs[0][0][1]"),
    ("null in an input", '{"inputs": [[[null, 2]]]}', "inputs[0][0][0]"),
    (
        "text in a weight",
        '{"n_neurons": 1, "inputs": [[[1]]], "weights": {"Wx": [["0.5"]]}}',
        "weights.Wx[0][0]",
    ),
    ("NaN input", '{"inputs": [[[1, NaN]]]}', "inputs[0][0][1]"),
    ("Infinity input", '{"inputs": [[[Infinity, 1]]]}', "inputs[0][0][0]"),
    ("-Infinity input", '{"inputs": [[[1]], [[-Infinity]]]}', "inputs[1][0][0]"),
    ("overflowing float input", '{"inputs": [[[1e400]]]}', "inputs[0][0][0]"),
    ("NaN weight", '{"n_neurons": 1, "weights": {"b": [NaN]}}', "weights.b[0]"),
    ("Infinity weight", '{"n_neurons": 1, "weights": {"bo": [0, Infinity, 0]}}', "weights.bo[1]"),
    ("-Infinity weight", '{"n_neurons": 1, "weights": {"Wx": [[-Infinity], [0]]}}', "weights.Wx[0][0]"),
    ("NaN weight_scale", '{"weight_scale": NaN}', "weight_scale"),
    ("Infinity weight_scale", '{"weight_scale": Infinity}', "weight_scale"),
    ("NaN n_neurons", '{"n_neurons": NaN}', "n_neurons"),
    ("-Infinity seed", '{"seed": -Infinity}', "seed"),
    ("Infinity view", '{"view": {"row": Infinity}}', "view.row"),
    ("huge input", '{"inputs": [[[1, 1e7]]]}', "inputs[0][0][1]"),
    ("huge negative input", '{"inputs": [[[-2e6]]]}', "inputs[0][0][0]"),
    ("huge integer input", '{"inputs": [[[' + "9" * 400 + "]]]}", "inputs[0][0][0]"),
    ("huge weight", '{"n_neurons": 1, "weights": {"b": [1e300]}}', "weights.b[0]"),
    ("huge integer weight", '{"n_neurons": 1, "weights": {"b": [-' + "1" * 500 + "]}}", "weights.b[0]"),
    ("51 steps", json.dumps({"inputs": inputs_of(51, 1, 1)}), "n_steps"),
    ("33 rows", json.dumps({"inputs": inputs_of(1, 33, 1)}), "batch"),
    ("9 features", json.dumps({"inputs": inputs_of(1, 1, 9)}), "n_inputs"),
    ("257 neurons", '{"n_neurons": 257}', "n_neurons"),
    ("0 neurons", '{"n_neurons": 0}', "n_neurons"),
    ("-3 neurons", '{"n_neurons": -3}', "n_neurons"),
    ("fractional neurons", '{"n_neurons": 4.5}', "n_neurons"),
    ("neurons as text", '{"n_neurons": "8"}', "n_neurons"),
    ("negative seed", '{"seed": -1}', "seed"),
    ("seed past 32 bits", '{"seed": 4294967296}', "seed"),
    ("unknown activation", '{"activation": "softmax"}', "activation"),
    ("activation not text", '{"activation": ["tanh"]}', "activation"),
    ("unknown version", '{"version": 3}', "version"),
    ("a version 2 key in a version 1 state", '{"version": 1, "targets": null}', "targets"),
    ("version 0", '{"version": 0}', "version"),
    ("version true", '{"version": true}', "version"),
    ("version as text", '{"version": "1"}', "version"),
    ("unknown top key", '{"n_neurons": 4, "colour": "red"}', "colour"),
    ("misspelt key", '{"neurons": 4}', "neurons"),
    ("unknown key with a line break", '{"bad\\nkey": 1}', "bad"),
    ("bool as a count", '{"n_neurons": true}', "n_neurons"),
    ("bool as a seed", '{"seed": false}', "seed"),
    ("bool as an input", '{"inputs": [[[true, 1]]]}', "inputs[0][0][0]"),
    ("bool as a weight", '{"n_neurons": 1, "weights": {"b": [false]}}', "weights.b[0]"),
    ("bool as weight_scale", '{"weight_scale": true}', "weight_scale"),
    ("number as a bool", '{"shared_output": 1}', "shared_output"),
    ("weight_scale too big", '{"weight_scale": 10.5}', "weight_scale"),
    ("weight_scale negative", '{"weight_scale": -0.1}', "weight_scale"),
    ("weight_scale text", '{"weight_scale": "1"}', "weight_scale"),
    ("weights unknown key", '{"weights": {"Wz": [[1]]}}', "Wz"),
    ("weights not an object", '{"weights": [[1]]}', "weights"),
    (
        "Wo per step given when shared",
        '{"n_neurons": 2, "shared_output": true, "weights": {"Wo": [[1, 2]]}}',
        "weights.Wo",
    ),
    ("Wo shared given per step", '{"n_neurons": 2, "weights": {"Wo": [1, 2, 3]}}', "weights.Wo[0]"),
    ("bo per step given when shared", '{"shared_output": true, "weights": {"bo": [0, 0, 0]}}', "weights.bo"),
    ("bo too short per step", '{"weights": {"bo": [0]}}', "weights.bo"),
    ("view not an object", '{"view": 3}', "view"),
    ("view unknown key", '{"view": {"zoom": 2}}', "view"),
    ("view step past the steps", '{"view": {"step": 3}}', "view.step"),
    ("view negative row", '{"view": {"row": -1}}', "view.row"),
    ("view neuron past the neurons", '{"n_neurons": 4, "view": {"neuron": 4}}', "view.neuron"),
    ("view present not a bool", '{"view": {"present": "yes"}}', "view.present"),
    ("deeply nested", "[" * 100_000 + "]" * 100_000, "json"),
    ("too long", '{"inputs": [[[1' + " " * 4_000_100 + "]]]}", "json"),
]


@pytest.mark.parametrize(
    "text, field", [case[1:] for case in BAD_STATES], ids=[case[0] for case in BAD_STATES]
)
def test_bad_state_is_refused_naming_the_field(text, field):
    assert_state_error(load_state, text, field=field)


def test_bad_state_in_a_link_is_refused_naming_the_field():
    link = base64.urlsafe_b64encode(zlib.compress(b'{"n_neurons": 300}')).decode().rstrip("=")
    assert_state_error(decode_link, link, field="n_neurons")


def test_error_field_attribute():
    err = assert_state_error(load_state, '{"view": {"row": 9}}', field="view.row")
    assert err.field == "view.row"
    assert isinstance(err, ValueError)


def test_the_limits_themselves_are_accepted():
    state = load_state(json.dumps({"inputs": inputs_of(50, 1, 1), "n_neurons": 256, "seed": 2**32 - 1}))
    assert state.inputs.shape == (50, 1, 1)
    state = load_state(json.dumps({"inputs": inputs_of(1, 32, 8), "n_neurons": 1, "seed": 0}))
    assert state.inputs.shape == (1, 32, 8)
    state = load_state('{"inputs": [[[1000000, -1000000]]], "weight_scale": 10, "version": 1}')
    assert state.inputs.tolist() == [[[1e6, -1e6]]]


# ---- hostile input -----------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["tanh", "relu"]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)
state_like = st.dictionaries(
    st.sampled_from(sorted(KNOWN_KEYS | {"Wx", "other"})),
    st.one_of(json_values, st.lists(st.lists(st.lists(json_scalars, max_size=4), max_size=4), max_size=4)),
    max_size=6,
)


def state_or_state_error(fn, *args) -> None:
    try:
        result = fn(*args)
    except StateError as err:
        assert str(err)
        return
    assert isinstance(result, State)


HOSTILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HOSTILE
@given(st.text())
def test_random_text_is_a_state_or_a_state_error(text):
    state_or_state_error(load_state, text)
    state_or_state_error(decode_link, text)


@HOSTILE
@given(st.binary())
def test_random_bytes_are_a_state_or_a_state_error(data):
    state_or_state_error(load_state, data)
    state_or_state_error(decode_link, base64.urlsafe_b64encode(data).decode().rstrip("="))
    state_or_state_error(decode_link, base64.urlsafe_b64encode(zlib.compress(data)).decode().rstrip("="))


@HOSTILE
@given(st.one_of(json_values, state_like))
def test_random_json_values_are_a_state_or_a_state_error(value):
    state_or_state_error(state_from_dict, value)
    text = json.dumps(value)  # NaN and Infinity included: Python writes them, JavaScript may not
    state_or_state_error(load_state, text)
    state_or_state_error(decode_link, base64.urlsafe_b64encode(zlib.compress(text.encode())).decode())


@HOSTILE
@given(key=st.sampled_from(sorted(KNOWN_KEYS)), value=json_values, data=st.data())
def test_one_damaged_field_of_a_good_state(key, value, data):
    good = state_to_dict(
        State(
            inputs=np.arange(12.0).reshape(2, 3, 2), n_neurons=3, weights={"b": np.ones(3)}, view=View(row=2)
        )
    )
    good[key] = value
    state_or_state_error(state_from_dict, good)
    link = encode_link(State())
    cut = data.draw(st.integers(0, len(link)))
    state_or_state_error(decode_link, link[:cut])  # a truncated link


def test_a_zlib_bomb_is_refused():
    packer = zlib.compressobj(9)
    chunks = [packer.compress(b'{"inputs": [[[1')]
    chunks += [packer.compress(b" " * 1_000_000) for _ in range(50)]  # 50 MB of spaces
    chunks.append(packer.compress(b"]]]}") + packer.flush())
    link = base64.urlsafe_b64encode(b"".join(chunks)).decode().rstrip("=")
    assert len(link) < MAX_LINK_CHARS  # small enough to get past the length check
    assert_state_error(decode_link, link, field="link")


def test_a_link_past_the_length_limit_is_refused():
    assert_state_error(decode_link, "A" * (MAX_LINK_CHARS + 1), field="link")


def test_a_link_that_is_not_text_is_refused():
    assert_state_error(decode_link, b"eJyrrgUAAXUA-Q", field="link")
    assert_state_error(decode_link, None, field="link")


# ---- sizes at the caps -------------------------------------------------------------------------


def cap_state(rng: np.random.Generator, explicit_weights: bool) -> State:
    state = State(inputs=rng.normal(size=(50, 32, 8)), n_neurons=256, view=View(step=49, row=31, neuron=255))
    if not explicit_weights:
        return state
    seeded = state.resolved_weights()
    return state.with_changes(weights={name: getattr(seeded, name) for name in ("Wx", "Wy", "b", "Wo", "bo")})


def test_link_lengths_at_the_caps():
    rng = np.random.default_rng(0)
    plain, full = cap_state(rng, False), cap_state(rng, True)
    plain_link, full_link = encode_link(plain), encode_link(full)
    assert len(encode_link(State())) <= 240  # the README's figure for the tutorial's link (226)
    assert len(plain_link) < MAX_LINK_CHARS
    assert_same_state(decode_link(plain_link), plain)
    if len(full_link) <= MAX_LINK_CHARS:
        assert_same_state(decode_link(full_link), full)
    else:  # too long to be a link: refused by name, the export file carries it instead
        assert_state_error(decode_link, full_link, field="link")


def test_export_file_at_the_caps_loads_back():
    """dump_state (indented) at the caps with explicit weights, every number as long as a float gets."""
    rng = np.random.default_rng(1)
    state = cap_state(rng, True)
    longest = -1.2345678901234567e-100  # 24 characters in JSON
    weights = {name: np.full_like(array, longest) for name, array in state.weights.items()}
    state = state.with_changes(inputs=np.full_like(state.inputs, longest), weights=weights)
    text = dump_state(state)
    assert len(text) <= MAX_STATE_CHARS  # the worst case still opens (bench/payload.py prints sizes)
    assert_same_state(load_state(text), state)
    typical = cap_state(rng, True)
    assert_same_state(load_state(dump_state(typical)), typical)


# ---- the schema: one description drives validation, files, links and the cache key ----------------


def changed_value(name: str, state: State):
    """A valid value of field `name` different from the state's."""
    T, B, _ = state.inputs.shape
    return {
        "inputs": state.inputs + 1,
        "n_neurons": state.n_neurons + 1,
        "seed": state.seed + 1,
        "activation": "relu",
        "shared_output": not state.shared_output,
        "weight_scale": state.weight_scale / 2,
        "weights": {"b": np.full(state.n_neurons, 0.5)},
        "targets": np.ones((T, B)),
        "training": TrainingSettings(optimizer="sgd", lr=0.5, freeze=("Wy",)),
        "view": View(step=1, row=2, neuron=3, present=True),
        "pinned": state.with_changes(seed=state.seed + 1, weights={"Wy": np.eye(state.n_neurons)}).pinnable(),
    }[name]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_field_round_trips_and_keys_the_cache_when_it_changes_the_numbers(name):
    base = State()
    changed = base.with_changes(**{name: changed_value(name, base)})
    assert_same_state(load_state(dump_state(changed)), changed)
    assert_same_state(decode_link(encode_link(changed)), changed)
    assert (numbers_key(changed) != numbers_key(base)) == SPECS[name].numbers


def test_a_state_is_written_in_the_lowest_version_that_holds_it():
    assert state_to_dict(State())["version"] == 1
    assert state_to_dict(State(targets=np.zeros((3, 3))))["version"] == 2
    assert_state_error(load_state, '{"version": 1, "training": {}}', field="training")
    assert load_state('{"version": 2, "training": {"lr": 0.5}}').training.lr == 0.5


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"targets": [[1, 2, 3]]}', "targets"),
        ('{"targets": [[1, 2, "x"], [1, 2, 3], [1, 2, 3]]}', "targets[0][2]"),
        ('{"targets": [[1, 2, 3e7], [1, 2, 3], [1, 2, 3]]}', "targets[0][2]"),
        ('{"training": {"optimizer": "rmsprop"}}', "training.optimizer"),
        ('{"training": {"lr": 0}}', "training.lr"),
        ('{"training": {"lr": 101}}', "training.lr"),
        ('{"training": {"clip": -1}}', "training.clip"),
        ('{"training": {"freeze": ["Wz"]}}', "training.freeze"),
        ('{"training": {"steps": 100001}}', "training.steps"),
        ('{"training": {"momentum": 0.9}}', "training"),
    ],
)
def test_bad_version_2_keys_are_refused_naming_the_field(text, field):
    assert_state_error(load_state, text, field=field)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(states())
def test_a_link_per_step_is_each_steps_own_link_to_the_letter(state):
    """The page's links at every step (the address bar as the step slider moves) are written in one
    pass over the numbers: each is the very text the state at that step has as its own link (the
    page compares links as text), and opens that state."""
    views = [
        View(step=t, row=state.view.row, neuron=state.view.neuron, present=p)
        for t in range(len(state.inputs))
        for p in (False, True)
    ]
    tokens = encode_links(state, views)
    for view, token in zip(views, tokens, strict=True):
        at_view = state.with_changes(view=view)
        assert token == link_as_first_written(at_view) == encode_link(at_view)
        assert state_to_dict(decode_link(token)) == state_to_dict(at_view)


def test_links_per_step_at_fifty_steps_are_each_steps_own_link():
    """The same at the size where it matters (50 steps, 64 neurons: each link ~3 KB, written 50 times
    on every pick before): long inputs and weights given by hand split the deflated text anywhere."""
    rng = np.random.default_rng(7)
    T, B, N = 50, 8, 64
    state = State(
        inputs=rng.normal(size=(T, B, 2)).round(4),
        n_neurons=N,
        weights={"Wy": rng.normal(size=(N, N)).round(3)},
        view=View(step=17, row=5, neuron=40, present=True),
    )
    views = [View(step=t, row=5, neuron=40, present=True) for t in range(T)]
    tokens = encode_links(state, views)
    assert len(set(tokens)) == T
    for view, token in zip(views, tokens, strict=True):
        assert token == link_as_first_written(state.with_changes(view=view))
