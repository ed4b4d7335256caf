"""Once per server process: widget states from the browser that Streamlit 1.67 cannot read stop
failing the whole run.

A widget's state arrives serialized and is deserialized by Streamlit, sometimes before the page's
first line runs (SessionState.on_script_will_rerun -> _compact_state reads every widget), so the
page cannot catch what fails there: a data editor row key that is not a number (`int('1.5')` in
DataEditorSerde.deserialize), a select box sent a number, NaN for an integer number input. Each
made every later run of that session end in an exception element. install() makes:
- the data editor's deserializer return an empty state marked UNREADABLE_KEY, which
  app/table.py check_editor_state refuses with a message (and the page resets the editor);
- any other widget whose state cannot be deserialized fall back to its default value, with a
  warning in the server log (the visitor's page shows the default: harmless).
- a select box or radio sent a value that is none of its options take its default option.
And one patch for speed, same semantics: the widget functions of number_input, radio, selectbox,
slider, text_widgets and time_widgets each read `get_session_state().filtered_state` only to ask
`key in state` and `state[key]` (is a keyed widget's value set to None, or for a slider and date input
of which kind), and filtered_state copies the whole session state (every key read through
SessionState.__getitem__) into a new dict: with the page's ~27 widgets and ~80 keys that cost ~17 ms
of each rerun under cProfile (~6-8 ms real). Those modules' `get_session_state` now returns a thin proxy
whose filtered_state is a lazy Mapping (_LazyFilteredState): a user key is looked up alone, through
SessionState.__contains__/__getitem__, which give what filtered_state would for it (a keyed widget's
value under its user key, the presenter applied); internal keys are absent as in filtered_state, and
a key that looks like a widget id, iteration and len() fall back to the real filtered_state.
Everything else on the proxy is the real SafeSessionState.
Idempotent; call it before the first session (app/serve.py) and at the top of the page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

UNREADABLE_KEY = "_unreadable"  # in a data editor state: why Streamlit could not read it
_LOG = logging.getLogger(__name__)
_MARK = "_rnn_hardened"
# the widget modules that read get_session_state().filtered_state (Streamlit 1.67)
_FILTERED_STATE_READERS = ("number_input", "radio", "selectbox", "slider", "text_widgets", "time_widgets")


def install() -> None:
    from streamlit.elements.widgets import data_editor
    from streamlit.runtime.state import session_state

    serde = data_editor.DataEditorSerde
    if not getattr(serde.deserialize, _MARK, False):
        original_deserialize = serde.deserialize

        def deserialize(self, ui_value):
            try:
                return original_deserialize(self, ui_value)
            except (ValueError, TypeError, AttributeError, RecursionError) as err:
                state = {
                    "edited_rows": {},
                    "added_rows": [],
                    "deleted_rows": [],
                    UNREADABLE_KEY: type(err).__name__,
                }
                return data_editor.DataEditorState(state)

        setattr(deserialize, _MARK, True)
        serde.deserialize = deserialize  # type: ignore[method-assign]

    from streamlit.elements.widgets import radio, selectbox

    for serde_class in (selectbox.SelectboxSerde, radio.RadioSerde):
        _options_only(serde_class)

    states = session_state.WStates
    if not getattr(states.__getitem__, _MARK, False):
        original_getitem = states.__getitem__

        def getitem(self, key):
            stored, metadata = self.states.get(key), self.widget_metadata.get(key)
            if isinstance(stored, session_state.Serialized) and metadata is not None:
                sent = stored.value.WhichOneof("value")
                # a number input registers as double_value and its browser sends int_value for whole
                # numbers (Streamlit then retypes the metadata): both are numbers, not another wire type
                numbers = {sent, metadata.value_type} <= {"int_value", "double_value"}
                if metadata.value_type and sent and sent != metadata.value_type and not numbers:
                    # a value of another wire type (a select box sent a number): Streamlit would take
                    # it and retype the widget, then fail to send it back on every later run
                    _LOG.warning(
                        "widget %s: a %s where a %s belongs; using its default",
                        key,
                        sent,
                        metadata.value_type,
                    )
                    value = metadata.deserializer(None)
                    self.states[key] = session_state.Value(value)
                    return value
            try:
                return original_getitem(self, key)
            except KeyError:
                raise
            except Exception as err:  # the browser's value cannot be read: the widget's default
                metadata = self.widget_metadata.get(key)
                if metadata is None:
                    raise
                _LOG.warning("widget %s: unreadable state from the browser (%s); using its default", key, err)
                value = metadata.deserializer(None)
                self.states[key] = session_state.Value(value)
                return value

        setattr(getitem, _MARK, True)
        states.__getitem__ = getitem  # type: ignore[method-assign]

    _lazy_filtered_state()


def _lazy_filtered_state() -> None:
    """The widget modules that read filtered_state get it lazily (see the module docstring)."""
    import importlib

    from streamlit.runtime.state import session_state_proxy

    real = session_state_proxy.get_session_state

    def get_session_state() -> _FastWidgetSessionState:
        return _FastWidgetSessionState(real())

    setattr(get_session_state, _MARK, True)
    for name in _FILTERED_STATE_READERS:
        module = importlib.import_module(f"streamlit.elements.widgets.{name}")
        if vars(module).get("get_session_state") is real:
            vars(module)["get_session_state"] = get_session_state


class _FastWidgetSessionState:
    """The session's SafeSessionState, but filtered_state is a _LazyFilteredState."""

    __slots__ = ("_safe",)

    def __init__(self, safe: Any) -> None:
        self._safe = safe

    @property
    def filtered_state(self) -> _LazyFilteredState:
        return _LazyFilteredState(self._safe)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._safe, name)


class _LazyFilteredState(Mapping[str, Any]):
    """SafeSessionState.filtered_state read one user key at a time. A key's value is kept from its
    first lookup, so `key in state and state[key] is None` sees one snapshot, as with the real copy."""

    __slots__ = ("_safe", "_seen")

    def __init__(self, safe: Any) -> None:
        self._safe = safe
        self._seen: dict[str, Any] = {}

    def _full(self) -> dict[str, Any]:
        return self._safe.filtered_state

    def __contains__(self, key: object) -> bool:
        from streamlit.runtime.state.common import is_element_id
        from streamlit.runtime.state.session_state import _is_internal_key

        if not isinstance(key, str) or is_element_id(key):
            return key in self._full()
        if key in self._seen:
            return True
        if _is_internal_key(key):  # filtered_state leaves them out
            return False
        with self._safe._lock:  # as the real property: the lock, no yield point
            try:
                self._seen[key] = self._safe._state[key]
            except KeyError:
                return False
        return True

    def __getitem__(self, key: str) -> Any:
        if not isinstance(key, str) or key not in self:
            raise KeyError(key)
        if key in self._seen:
            return self._seen[key]
        return self._full()[key]  # a key that looks like a widget id

    def __iter__(self) -> Iterator[str]:
        return iter(self._full())

    def __len__(self) -> int:
        return len(self._full())


def _options_only(serde_class: Any) -> None:
    """A select box or radio given a value that is none of its options (Streamlit passes it through,
    then fails drawing it) gets its default option instead. The page offers no free-text options."""
    original = serde_class.deserialize
    if getattr(original, _MARK, False):
        return

    def deserialize(self, ui_value):
        value = original(self, ui_value)
        options = list(getattr(self, "options", []) or [])
        if (
            value is None
            or not options
            or any(value is o or (type(value) is type(o) and value == o) for o in options)
        ):
            return value
        _LOG.warning(
            "%s: a value that is none of its options (%r); using the default", serde_class.__name__, value
        )
        index = getattr(self, "default_option_index", getattr(self, "index", 0)) or 0
        return options[index] if 0 <= index < len(options) else options[0]

    setattr(deserialize, _MARK, True)
    serde_class.deserialize = deserialize
