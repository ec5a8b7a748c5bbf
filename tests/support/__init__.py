"""Test helpers: a real HTTP target server, a gateway on a real socket, service fixtures."""
