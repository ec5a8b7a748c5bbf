"""File connectors: write one file per message into a folder (``file``), and take the rows
of files dropped into a folder in (``file-drop``).

Outcome rules (``file``): written (or already there with the same content) is delivered;
a file name that cannot be made safe, a body the format cannot hold, or a collision the
policy forbids parks; disk full, permissions, a missing share and timeouts retry.
Intake rules (``file-drop``): each content once, each row one message (refused rows are
reported with file, row and field), processed files archived, unreadable ones set aside.
"""

from .config import CsvOptions, FileConfig, XmlOptions
from .connector import FileConnector
from .inbound import FileDropSource
from .inbound_config import CsvInput, FileDropConfig, XmlInput

__all__ = [
    "CsvInput",
    "CsvOptions",
    "FileConfig",
    "FileConnector",
    "FileDropConfig",
    "FileDropSource",
    "XmlInput",
    "XmlOptions",
]
