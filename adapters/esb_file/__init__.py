"""File connector: write one file per message (json, csv or xml) into a folder, atomically.

Outcome rules: written (or already there with the same content) is delivered; a file
name that cannot be made safe, a body the format cannot hold, or a collision the
policy forbids parks; disk full, permissions, a missing share and timeouts retry.
"""

from .config import CsvOptions, FileConfig, XmlOptions
from .connector import FileConnector

__all__ = ["CsvOptions", "FileConfig", "FileConnector", "XmlOptions"]
