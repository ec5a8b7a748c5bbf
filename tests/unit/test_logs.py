"""Secrets never reach the log: keys, bearer tokens and URL passwords are masked."""

from __future__ import annotations

import logging

import structlog

from esb.logs import REDACTED, configure_logging, scrub


def test_scrub_masks_tokens_and_url_passwords() -> None:
    assert scrub("Authorization: Bearer abc.def-123") == f"Authorization: Bearer {REDACTED}"
    assert scrub("amqp://guest:s3cret@rabbit:5672/") == "amqp://guest:***@rabbit:5672/"


def test_every_log_line_is_redacted(capsys) -> None:
    configure_logging("json", "INFO")
    log = structlog.get_logger("test")
    log.info(
        "call",
        api_key="k-123456",
        headers={"Authorization": "Bearer k-123456"},
        url="postgresql://esb:pw-987@db/esb",
    )
    logging.getLogger("uvicorn.error").warning("token seen: Bearer k-123456")
    out = capsys.readouterr().err
    assert out.count("\n") == 2
    assert "k-123456" not in out
    assert "pw-987" not in out
    assert '"event":"call"' in out
