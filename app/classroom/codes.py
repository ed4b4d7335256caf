"""Join codes, teacher keys and the checks on every identifier a browser sends.

Codes use Crockford's base32 (no I, L, O, U): 9 characters, 45 random bits. Typing is forgiving:
case, spaces and hyphens are ignored, O reads as 0 and I or L as 1, so `abcd-efgh1` and
`ABCDEFGHL` are the same code. Teacher keys are 192 random bits; only their SHA-256 is stored, and
it is compared with `hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: 32 symbols, 5 bits each
CODE_LENGTH = 9  # 45 bits
TEACHER_KEY_BYTES = 24  # 192 bits

_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})
_CODE = re.compile(f"[{ALPHABET}]{{{CODE_LENGTH}}}")
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_QUESTION_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def new_teacher_key() -> str:
    return secrets.token_urlsafe(TEACHER_KEY_BYTES)


def new_client_id() -> str:
    """A random, anonymous id for one browser (what the page keeps for a student)."""
    return secrets.token_urlsafe(16)


def key_digest(teacher_key: str) -> str:
    return hashlib.sha256(teacher_key.encode("utf-8", "surrogatepass")).hexdigest()


def key_matches(teacher_key: object, stored_digest: str) -> bool:
    if not isinstance(teacher_key, str) or len(teacher_key) > 256:
        return False
    return hmac.compare_digest(key_digest(teacher_key), stored_digest)


def normalize_code(code: object) -> str | None:
    """The canonical form of a typed code, or None when it cannot be a code at all."""
    if not isinstance(code, str) or len(code) > 32:
        return None
    canonical = re.sub(r"[\s-]", "", code).upper().translate(_TYPO)
    return canonical if _CODE.fullmatch(canonical) else None


def format_code(code: str) -> str:
    """For display: `ABCD-EFGHJ` style groups (normalize_code reads it back)."""
    return f"{code[:4]}-{code[4:]}"


def valid_client_id(client_id: object) -> bool:
    return isinstance(client_id, str) and _CLIENT_ID.fullmatch(client_id) is not None


def valid_question_id(question_id: object) -> bool:
    return isinstance(question_id, str) and _QUESTION_ID.fullmatch(question_id) is not None


def rate_bucket(kind: str, value: str) -> str:
    """What the join limiter stores for a client id or an address: a hash, never the address."""
    text = f"rnn-join:{kind}:{value}"
    return kind[0] + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
