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
Idempotent; call it before the first session (app/serve.py) and at the top of the page.
"""

from __future__ import annotations

import logging
from typing import Any

UNREADABLE_KEY = "_unreadable"  # in a data editor state: why Streamlit could not read it
_LOG = logging.getLogger(__name__)
_MARK = "_rnn_hardened"


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
