"""app/hardening.py's lazy filtered_state: the widget modules stop copying the whole session state on
every widget call, and what they see of it, and what the page sees of st.session_state, is unchanged."""

from __future__ import annotations

import importlib
import json
import re
import textwrap
from pathlib import Path

import pytest
from streamlit.runtime.state import session_state_proxy
from streamlit.runtime.state.session_state import SessionState
from streamlit.testing.v1 import AppTest

from app import hardening

WIDGETS_DIR = Path(importlib.import_module("streamlit.elements.widgets").__path__[0])

# A page with keyed widgets set to None beforehand, a keyed widget given its value through session
# state, a keyless widget, a range slider whose kind comes from session state, and at its foot what
# the lazy view and the real filtered_state say of every key (they must agree) and st.session_state's
# keys, len and to_dict.
PAGE = """
import json

from app import hardening

hardening.install()

import streamlit as st
from streamlit.elements.widgets import number_input
from streamlit.runtime.state import session_state_proxy

if "started" not in st.session_state:
    st.session_state.started = True
    st.session_state.num = None
    st.session_state.pick = None
    st.session_state.words = None
    st.session_state.preset = 7
    st.session_state.span = (2, 5)
    st.session_state.plain = "hello"

num = st.number_input("num", value=3, key="num")
pick = st.selectbox("pick", ["a", "b"], key="pick")
words = st.text_input("words", value="x", key="words")
preset = st.number_input("preset", value=1, key="preset")
keyless = st.number_input("keyless", value=5)
span = st.slider("span", 0, 10, key="span")
level = st.slider("level", 0, 10, key="level")

safe = session_state_proxy.get_session_state()
real = safe.filtered_state
lazy = number_input.get_session_state().filtered_state
probes = set(real) | set(safe._state._keys()) | {"missing", "$$STREAMLIT_INTERNAL_KEY_x", "$$ID-x-num"}
disagree = [
    k for k in sorted(probes) if (k in lazy) != (k in real) or (k in real and lazy[k] != real[k])
]
st.text("values=" + json.dumps([num, pick, words, preset, keyless, list(span), level]))
st.text("disagree=" + json.dumps(disagree))
st.text("lazy_iter=" + json.dumps(sorted(lazy) == sorted(real) and len(lazy) == len(real)))
st.text("keys=" + json.dumps(sorted(st.session_state)))
st.text("len=" + json.dumps(len(st.session_state)))
st.text("dict=" + json.dumps(sorted(st.session_state.to_dict())))
"""

USER_KEYS = ["level", "num", "pick", "plain", "preset", "span", "started", "words"]


def page(tmp_path: Path, source: str = PAGE) -> AppTest:
    path = tmp_path / "page.py"
    path.write_text(textwrap.dedent(source))
    return AppTest.from_file(str(path), default_timeout=60)


def shown(at: AppTest) -> dict:
    found = {}
    for element in at.text:
        name, _, value = element.value.partition("=")
        found[name] = json.loads(value)
    return found


def defaults_sent(at: AppTest) -> list[bool]:
    """Whether each of num, pick, words tells the browser a default: what filtered_state decides
    (a key set to None in session state sends none)."""
    widgets = (at.number_input(key="num"), at.selectbox(key="pick"), at.text_input(key="words"))
    return [w.proto.HasField("default") for w in widgets]


def test_installed_on_every_widget_module_that_reads_filtered_state_and_idempotent():
    hardening.install()
    patched = {
        name: importlib.import_module(f"streamlit.elements.widgets.{name}").get_session_state
        for name in hardening._FILTERED_STATE_READERS
    }
    hardening.install()
    for name, function in patched.items():
        module = importlib.import_module(f"streamlit.elements.widgets.{name}")
        assert getattr(function, hardening._MARK, False), name
        assert module.get_session_state is function, f"{name}: install() is not idempotent"
    readers = {p.stem for p in WIDGETS_DIR.glob("*.py") if re.search(r"\.filtered_state\b", p.read_text())}
    assert readers == set(hardening._FILTERED_STATE_READERS), "Streamlit's readers of filtered_state changed"


def test_widgets_see_the_same_state_through_the_lazy_view(tmp_path):
    at = page(tmp_path).run()
    assert not at.exception, at.exception
    first = shown(at)
    # set to None beforehand: None, not the value given; set beforehand: that value; a range slider
    assert first["values"] == [None, None, None, 7, 5, [2, 5], 0]
    assert defaults_sent(at) == [False, False, False]
    assert first["disagree"] == [] and first["lazy_iter"] is True
    assert first["keys"] == USER_KEYS and first["len"] == len(USER_KEYS) and first["dict"] == USER_KEYS

    # the keys are widgets' now (keyed widget ids in session state): the same again, after edits
    at.number_input(key="num").set_value(4)
    at.selectbox(key="pick").select("b")
    at.number_input[2].set_value(6)  # the keyless one
    at = at.run()
    assert shown(at)["values"] == [4, "b", None, 7, 6, [2, 5], 0]
    assert defaults_sent(at) == [True, True, False]
    at.session_state["num"] = None
    at.session_state["words"] = "typed"
    at.session_state["preset"] = 9
    at = at.run()
    again = shown(at)
    assert not at.exception, at.exception
    # a number input's None from session state once it has a value is its default (NumberInputSerde)
    assert again["values"] == [3, "b", "typed", 9, 6, [2, 5], 0]
    assert defaults_sent(at) == [True, True, True]
    assert again["disagree"] == [] and again["lazy_iter"] is True
    assert again["keys"] == USER_KEYS and again["len"] == len(USER_KEYS) and again["dict"] == USER_KEYS


def test_a_widget_call_does_not_copy_the_session_state(tmp_path, monkeypatch):
    """The real filtered_state is not called by the widgets once installed; Streamlit's own widgets
    call it once each (checked by putting Streamlit's get_session_state back for a run)."""
    original = SessionState.filtered_state
    calls = []

    def counted(self):
        calls.append(1)
        return original.fget(self)

    source = PAGE.split("safe = session_state_proxy")[0]  # the widgets only
    at = page(tmp_path, source).run()
    assert not at.exception, at.exception
    monkeypatch.setattr(SessionState, "filtered_state", property(counted))
    at = at.run()
    assert not at.exception, at.exception
    assert calls == [], f"{len(calls)} copies of the session state"

    real = session_state_proxy.get_session_state
    for name in hardening._FILTERED_STATE_READERS:
        module = importlib.import_module(f"streamlit.elements.widgets.{name}")
        monkeypatch.setattr(module, "get_session_state", real)
    at = page(tmp_path, source.replace("hardening.install()", "")).run()
    assert not at.exception, at.exception
    assert len(calls) >= 6  # one per keyed widget, at least, without the patch


@pytest.mark.parametrize("key", ["missing", "$$STREAMLIT_INTERNAL_KEY_x", "$$ID-x-None", "num", 3])
def test_the_lazy_mapping_answers_as_filtered_state_outside_a_run(key):
    """Outside a script run, on a SafeSessionState of its own: each kind of key."""
    from streamlit.runtime.state import SafeSessionState

    safe = SafeSessionState(SessionState(), lambda: None)
    safe["num"] = None
    safe["other"] = 1
    lazy, real = hardening._LazyFilteredState(safe), safe.filtered_state
    assert (key in lazy) == (key in real)
    if key in real:
        assert lazy[key] == real[key]
    else:
        with pytest.raises(KeyError):
            lazy[key]
    assert dict(lazy) == real and len(lazy) == len(real)
