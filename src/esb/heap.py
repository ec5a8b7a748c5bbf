"""What a process made while starting is kept out of the garbage collector's full passes.

A started gateway holds some 200,000 objects that live as long as the process (modules,
the configuration, compiled schemas, SQLAlchemy's and pydantic's machinery). Python's
cycle collector walks every one of them in each full collection: during a staging
table's intake about one a second, 120 ms each on a slow core, a quarter of the intake's
CPU (issue 12, docs/performance.md), and the same pause in whatever request is under
way. ``gc.freeze`` moves them to the permanent generation once the process has started;
everything made later is collected as before.

The youngest generation is also collected after 10,000 new container objects instead of
700: a page of staging-table rows makes tens of thousands (a document, its stored row
and answers per row), and each pass checks what the last ones made, nearly all of it
still in use (the same intake: 1,900 passes and 0.9 s, against 450 and 0.1 s). Cyclic
garbage waits a little longer to be freed; memory stays flat (the benchmark's peak is
the same).
"""

from __future__ import annotations

import gc

#: new container objects between two passes over the youngest generation
YOUNG_THRESHOLD = 10_000


def freeze_startup_objects() -> None:
    """Collect the start-up's garbage, then freeze what is left (call once, when started)."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
