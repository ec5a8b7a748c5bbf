"""The one error tree, and its edge to HTTP: domain errors carry no status of their own."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from esb import errors
from esb.api.errors import install


def test_the_tree_is_the_one_drawn_in_its_docstring() -> None:
    assert not hasattr(errors, "DeliveryError")
    assert not hasattr(errors, "TransientError")
    assert not hasattr(errors, "PermanentError")
    assert errors.MappingError.__bases__ == (errors.EsbError,)
    assert errors.XrefMissing.__bases__ == (errors.MappingError,)
    for domain in (errors.NotFound, errors.Conflict, errors.BrokerUnavailable):
        assert domain.__bases__ == (errors.EsbError,)
        assert not hasattr(domain, "http_status"), "the HTTP edge maps domain errors"
    assert errors.PluginError.__bases__ == (errors.EsbError,)
    tree = errors.__doc__ or ""
    for name in dir(errors):
        value = getattr(errors, name)
        if isinstance(value, type) and issubclass(value, errors.EsbError):
            assert name in tree, f"{name} is missing from the drawing"


@pytest.mark.parametrize(
    ("raised", "status", "code"),
    [
        (errors.NotFound("no delivery 1"), 404, "not_found"),
        (errors.Conflict("delivery 1 is delivered"), 409, "conflict"),
        (errors.BrokerUnavailable("connection refused"), 503, "broker_unavailable"),
        (errors.StoreUnavailable("gone"), 503, "store_unavailable"),
        (errors.StoreRefused("too long"), 422, "unstorable_value"),
    ],
)
async def test_the_edge_answers_each_domain_error_as_json(
    raised: Exception, status: int, code: str
) -> None:
    app = FastAPI()
    install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise raised

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/boom")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    if status == 503:
        assert response.headers["Retry-After"] == "1"
