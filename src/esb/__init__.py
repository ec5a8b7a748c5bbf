"""esb: a lightweight, durable integration gateway for manufacturers."""

__version__ = "0.1.0"
