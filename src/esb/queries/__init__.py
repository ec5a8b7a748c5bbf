"""Named read-only queries (``queries.yaml``): parameters read from the URL, a pool per
database, a read-only transaction with a statement timeout, rows as JSON or CSV.

Kept apart from the message pipeline: a query touches none of the gateway's own
tables, only the database the query names.
"""
