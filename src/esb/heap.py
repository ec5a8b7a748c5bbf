"""What a process made while starting is kept out of the garbage collector's full passes.

A started gateway holds some 200,000 objects that live as long as the process (modules,
the configuration, compiled schemas, SQLAlchemy's and pydantic's machinery). Python's
cycle collector walks every one of them in each full collection: during a staging
table's intake about one a second, 120 ms each on a slow core, a quarter of the intake's
CPU (issue 12, docs/performance.md), and the same pause in whatever request is under
way. ``gc.freeze`` moves them to the permanent generation once the process has started;
everything made later is collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Collect the start-up's garbage, then freeze what is left (call once, when started)."""
    gc.collect()
    gc.freeze()
