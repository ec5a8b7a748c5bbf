"""The parallel run before go-live (``shadow:`` on a target).

A candidate mapping for a live target, or a new target standing for the system that
will replace a live one, runs beside the live path on live traffic: its output is
compared field by field with what the live path sent, recorded per day, and sent
nowhere (or to a test endpoint). ``esb shadow promote`` makes it live in every process,
``esb shadow rollback`` brings the previous one back; both are audited.

``masks`` (fields not compared) and ``compare`` (one comparison) are pure; ``overlay``
applies the promotions kept in the store to the configuration the files describe;
``actions`` promotes and rolls back (the CLI and the API); ``runner`` does the work
beside a delivery and ``sending`` calls the test endpoints; ``part`` keeps every
process's overlay current; ``status`` builds what the API, the CLI and the dashboard
show. The declaration itself (``shadow:``) is ``esb.config.shadow``.
"""
