"""Every answer the API gives is in its OpenAPI document: status, media type and shape.

Each refusal is provoked over HTTP against a running gateway (both modes): no key,
a system's key on an operator endpoint, unknown items, states that forbid the action,
bodies too large or wrong; and the CSV and Prometheus answers. Each response must be
listed for its operation with its media type, and every error body must match the
documented error schema.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from tests.support.gateway import ADMIN_KEY, ERP_KEY, GatewayUnderTest, rest_interface, write_config
from tests.support.target import TargetServer

UNKNOWN_ID = "0190aaaa-0000-7000-8000-000000000000"
SAMPLE = {  # a value for each path parameter
    "message_id": UNKNOWN_ID,
    "delivery_id": UNKNOWN_ID,
    "message_type": "sales_order",
    "domain": "customer",
    "system": "erp",
    "code": "C-404",
    "name": "no-such-mapping",
    "interface": "sales-order",
    "kind": "soap",
    "target": "mes",
}


def concrete(template: str, **values: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], SAMPLE[m[1]]), template)


class Checker:
    """Sends requests and checks each answer against the document."""

    def __init__(self, gut: GatewayUnderTest, document: dict[str, Any]) -> None:
        self.gut, self.document = gut, document
        self.seen: set[tuple[str, str, int]] = set()

    def operations(self) -> list[tuple[str, str]]:
        return [(m.upper(), p) for p, ops in self.document["paths"].items() for m in ops]

    async def call(
        self, method: str, template: str, key: str | None, *, url: str | None = None, **kw: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = await self.gut.client.request(
            method, self.gut.url + (url or concrete(template)), headers=headers, **kw
        )
        self.check(method, template, response)
        return response

    def check(self, method: str, template: str, response: httpx.Response) -> None:
        operation = self.document["paths"][template][method.lower()]
        status = response.status_code
        documented = operation["responses"].get(str(status))
        assert documented is not None, f"{method} {template} answered undocumented {status}"
        self.seen.add((method, template, status))
        media = response.headers.get("content-type", "").split(";")[0]
        if not response.content:
            return
        assert media in documented.get("content", {}), (method, template, status, media)
        schema = documented["content"][media].get("schema", {})
        if media == "application/json" and status >= 400:
            jsonschema.validate(
                response.json(), {**schema, "components": self.document["components"]}
            )


async def test_every_answer_is_in_the_openapi_document(
    make_gateway: Any, target: TargetServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "cfg", rest_interface(target.url))
    gut = await make_gateway(config, max_body_bytes=1000)
    document = (await gut.client.get(f"{gut.url}/openapi.json")).json()
    api = Checker(gut, document)

    for method, template in api.operations():
        if template.startswith("/v1/"):
            assert (await api.call(method, template, None)).status_code == 401
            operation = document["paths"][template][method.lower()]
            granted = ("/v1/messages/{message_type}", "/v1/queries/{name}")  # 404 before 403
            if "403" in operation["responses"] and template not in granted:
                assert (await api.call(method, template, ERP_KEY)).status_code == 403

    # unknown items
    for method, template, body in (
        ("GET", "/v1/messages/{message_id}", None),
        ("POST", "/v1/deliveries/{delivery_id}/replay", {"reason": "r"}),
        ("POST", "/v1/deliveries/{delivery_id}/correct", {"reason": "r", "body": {}}),
        ("POST", "/v1/deliveries/{delivery_id}/discard", {"reason": "r"}),
        ("GET", "/v1/xref/{domain}/{system}/{code}", None),
        ("DELETE", "/v1/xref/{domain}/{system}/{code}", None),
        ("POST", "/v1/mappings/{name}/preview", {"input": {}}),
        ("POST", "/inbound/{interface}/{kind}", None),
        ("POST", "/v1/messages/{message_type}", {"OrderNo": "X"}),
        ("GET", "/v1/queries/{name}", None),
        ("GET", "/v1/shadow/{interface}/{target}/comparisons", None),  # none declared
        ("POST", "/v1/shadow/{interface}/{target}/promote", {"reason": "r"}),
        ("POST", "/v1/shadow/{interface}/{target}/rollback", {"reason": "r"}),
    ):
        key = ERP_KEY if template == "/v1/messages/{message_type}" else ADMIN_KEY
        url = concrete(template, message_type="no_such_type")
        response = await api.call(method, template, key, url=url, json=body)
        assert response.status_code == 404, (template, response.text)

    # states that forbid the action: a delivered delivery, a code another entity has
    accepted = await api.call("POST", "/v1/messages/{message_type}", ERP_KEY, json={"OrderNo": "A"})
    message = await gut.wait_status(accepted.json()["id"], "delivered")
    delivery = message["deliveries"][0]["id"]
    for action, body in (
        ("replay", {"reason": "r"}),
        ("discard", {"reason": "r"}),
        ("correct", {"reason": "r", "body": {"x": 1}}),
    ):
        template = f"/v1/deliveries/{{delivery_id}}/{action}"
        url = concrete(template, delivery_id=delivery)
        assert (await api.call("POST", template, ADMIN_KEY, url=url, json=body)).status_code == 409
    entity = "/v1/xref/{domain}/{system}/{code}"
    codes = {"codes": {"mes": "M-1"}}
    await api.call("PUT", entity, ADMIN_KEY, url=concrete(entity, code="C-1"), json=codes)
    conflict = await api.call(
        "PUT", entity, ADMIN_KEY, url=concrete(entity, code="C-2"), json=codes
    )
    assert conflict.status_code == 409, conflict.text

    # bodies too large, bodies and parameters wrong
    big = "key,mes\n" + "C,M\n" * 20_000
    imported = await api.call("POST", "/v1/xref/{domain}/import", ADMIN_KEY, content=big)
    assert imported.status_code == 413
    sent = await api.call("POST", "/v1/messages/{message_type}", ERP_KEY, json={"x": "y" * 2000})
    assert sent.status_code == 413
    for method, template, kw in (
        ("GET", "/v1/messages", {"params": {"limit": 0}}),
        ("GET", "/v1/report", {"params": {"window": "soon"}}),
        ("GET", "/v1/report/series", {"params": {"window": "soon"}}),
        ("GET", "/v1/routes", {"params": {"window": "soon"}}),
        ("GET", "/v1/report/value", {"params": {"period": "2026-13"}}),
        ("GET", "/v1/trace", {}),
        ("GET", "/v1/xref/{domain}", {"params": {"format": "xml"}}),
        ("PUT", entity, {"json": {"codes": "none"}}),
        ("POST", "/v1/xref/{domain}/import", {"content": b"\xff\xfe"}),
        ("POST", "/v1/deliveries/{delivery_id}/replay", {"json": {}}),
        ("POST", "/v1/mappings/{name}/preview", {"json": []}),
        ("GET", "/v1/shadow", {"params": {"days": 0}}),
        ("GET", "/v1/shadow/{interface}/{target}/comparisons", {"params": {"day": "today"}}),
        ("POST", "/v1/shadow/{interface}/{target}/promote", {"json": {"reason": ""}}),
    ):
        response = await api.call(method, template, ADMIN_KEY, **kw)
        assert response.status_code == 422, (template, response.text)
    (config / "interfaces.yaml").write_text("interfaces: [")
    reload = await api.call("POST", "/v1/config/reload", ADMIN_KEY)
    assert reload.status_code == 422, reload.text

    # the answers that are not JSON
    csv = await api.call("GET", "/v1/xref/{domain}", ADMIN_KEY, params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    value = await api.call("GET", "/v1/report/value", ADMIN_KEY, params={"format": "csv"})
    assert value.headers["content-type"].startswith("text/csv")
    metrics = await api.call("GET", "/metrics", None)
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "esb_messages_accepted_total" in metrics.text

    # every operation was called at least once
    assert {(m, t) for m, t, _ in api.seen} >= set(api.operations()) - {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("POST", "/v1/reconcile"),
        ("GET", "/v1/xref"),
        ("GET", "/v1/mappings"),
    }
