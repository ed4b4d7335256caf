"""A thread-safe LRU bounded by size, shared by every session of a server process: the results it
computed (app/compute.py), the charts as it sent them (app/components/charts), the share links it
encoded (app/session.py), all by bytes; the gradients it computed (app/sections/gradients.py), by
count (each of size 1)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class SharedLRU(Generic[V]):
    """Values by key, the least recently used dropped first once their sizes (`size`: bytes, or 1 each
    for a count) pass `max_bytes` (the newest is always kept)."""

    def __init__(self, max_bytes: int, size: Callable[[V], int]):
        self.max_bytes = max_bytes
        self._size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self._bytes += self._size(value)
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._bytes -= self._size(old)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
