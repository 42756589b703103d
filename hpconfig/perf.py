"""Small performance helpers shared by the pipeline's hot paths."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects with no cycles.

    Loading manifests or an organization's controls makes hundreds of thousands of dicts and
    strings; the collector would walk them again and again for nothing (a fifth of the time).
    Reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
