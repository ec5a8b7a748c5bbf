"""REST polling source (``kind: rest-poll``): pull a list API on a schedule.

Each pull asks for what changed since a watermark (the largest ``updated_at`` seen, or
a cursor the API hands out), follows the pages until the API says there are no more,
hands every item to the pipeline, and only then moves the watermark on. A failing or
malformed answer leaves the watermark where it was: the next pull asks again.
"""

from esb_poll.config import RestPollConfig
from esb_poll.source import RestPollSource

__all__ = ["RestPollConfig", "RestPollSource"]
