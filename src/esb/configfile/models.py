"""What every configuration model shares: names, and refusing unknown keys."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from esb.limits import MAX_NAME

#: Names of systems, interfaces, targets and mappings (they appear in URLs and queues).
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=MAX_NAME)]


class StrictModel(BaseModel):
    """Every configuration model refuses unknown keys: a typo is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)
