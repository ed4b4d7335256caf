"""Class sessions (issue 15): a teacher's class that students join with a code and follow.

    from app.classroom import open_store
    store = open_store()                 # $RNN_CLASS_STORE: "memory" (default) or redis://host:port/db

Pure Python plus the `redis` client: no streamlit, no tensorflow. See store.py for the interface.
"""

from app.classroom.codes import format_code, new_client_id, normalize_code, valid_client_id
from app.classroom.store import (
    CLASS_TTL_S,
    ENV_VAR,
    AnswersClosed,
    ClassFull,
    ClassNotFound,
    ClassroomError,
    ClassStore,
    Distribution,
    InvalidInput,
    JoinResult,
    NotJoined,
    NotRevealed,
    NotTeacher,
    Presence,
    RateLimited,
    StoreUnavailable,
    TooManyQuestions,
    open_store,
)

__all__ = [
    "CLASS_TTL_S",
    "ENV_VAR",
    "AnswersClosed",
    "ClassFull",
    "ClassNotFound",
    "ClassStore",
    "ClassroomError",
    "Distribution",
    "InvalidInput",
    "JoinResult",
    "NotJoined",
    "NotRevealed",
    "NotTeacher",
    "Presence",
    "RateLimited",
    "StoreUnavailable",
    "TooManyQuestions",
    "format_code",
    "new_client_id",
    "normalize_code",
    "open_store",
    "valid_client_id",
]
