"""The ``esb`` commands a person runs against a configuration folder and a gateway's
database (``esb.cli`` assembles them with the process commands such as ``serve``)."""
