"""Stand-ins for the vendor systems a factory runs, speaking their protocols strictly.

Each is an ASGI app: tests serve it on a real socket (``esb.testing.served.Served``), the
demo mounts it under ``/demo/...`` so ``esb serve`` with no settings has something to talk
to. They import no test library, so the gateway can serve them without pytest installed.
"""
