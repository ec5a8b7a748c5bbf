"""Reading a file people edit: YAML with the line of every key and ``${VARS}`` filled in,
validated against a pydantic model with each problem as ``file:line: key: plain words``.

Shared by ``esb.config`` (the gateway's own files) and ``esb.mapping`` (mapping and
code-table files), so the mapping engine reads its files without the gateway's
configuration (connectors, sources, settings) coming along. Depends on nothing of
esb but ``esb.errors``.
"""

from esb.configfile.models import NAME_PATTERN, Name, StrictModel
from esb.configfile.validation import Locate, file_loc, problem, validate
from esb.configfile.yamlfile import Loc, YamlDocument, format_loc, read_yaml

__all__ = [
    "NAME_PATTERN",
    "Loc",
    "Locate",
    "Name",
    "StrictModel",
    "YamlDocument",
    "file_loc",
    "format_loc",
    "problem",
    "read_yaml",
    "validate",
]
