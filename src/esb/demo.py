"""Stand-ins for the demo factory's target systems, served by the gateway itself.

With no ESB_CONFIG the gateway runs the shipped demo factory, whose MES and ERP
URLs point here (``/demo/...``), so ``esb serve`` works end to end on a laptop with
nothing else installed. Each stand-in logs and keeps what it received. Finance's
Kingdee K/3 Cloud stand-in (``esb.standins.kingdee``) is mounted at ``/demo/kingdee``: the
demo's ``KINGDEE_URL`` defaults to ``{gateway}/demo/kingdee/k3cloud``, logged in to with
``DEMO_KINGDEE_*``; ``GET /demo/kingdee/received`` lists the bills it holds. A Yonyou
stand-in (``esb.standins.yonyou``: U8 OpenAPI and a YonBIP gateway) is at ``/demo/yonyou``
for trying the ``yonyou`` connector (app ``DEMO_YONYOU_*``; ``GET /demo/yonyou/received``).
The chat robots (WeCom, DingTalk: ``esb.demo_robots``) take the alerts when
ALERT_WECOM_URL or ALERT_DINGTALK_URL point at them.
"""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

import orjson
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from esb.demo_robots import ChatRobots
from esb.sdk import xml as xmlsafe
from esb.standins.kingdee import KingdeeStandIn
from esb.standins.yonyou import YonyouStandIn

log = structlog.get_logger("esb.demo")
KEEP = 100
PICK_NS = "http://wms.demo-factory.example/pick"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_XML = "text/xml; charset=utf-8"
# What the demo factory's finance target logs in with when KINGDEE_* are not set.
DEMO_KINGDEE_ACCT_ID = "demo-factory"
DEMO_KINGDEE_USER = "esb"
DEMO_KINGDEE_PASSWORD = "demo-kingdee-password"
# What the Yonyou stand-in accepts (U8: both accounts too; YonBIP: key and secret).
DEMO_YONYOU_APP_KEY = "opa-esb-demo"
DEMO_YONYOU_APP_SECRET = "demo-yonyou-secret"
DEMO_YONYOU_FROM_ACCOUNT = "esb-gateway"
DEMO_YONYOU_TO_ACCOUNT = "factory-u8"
#: what the demo's chat robot stand-ins accept (see demo_factory/alerts.yaml)
DEMO_WECOM_KEY = "demo-wecom-key"
DEMO_DINGTALK_TOKEN = "demo-dingtalk-token"
DEMO_DINGTALK_SECRET = "SECdemo-dingtalk-secret"


def pick_response(pick_id: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_NS}">'
        f'<soap:Body><CreatePickResponse xmlns="{PICK_NS}"><PickId>{escape(pick_id)}</PickId>'
        "<Accepted>true</Accepted></CreatePickResponse></soap:Body></soap:Envelope>"
    ).encode()


def soap_fault(code: str, text: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_NS}">'
        f"<soap:Body><soap:Fault><faultcode>soap:{code}</faultcode>"
        f"<faultstring>{escape(text)}</faultstring></soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


#: The ERP's customer list as the scenario's pages show it (inputs/erp_customers_page*.json).
ERP_CUSTOMERS: list[dict[str, Any]] = [
    {"code": "C0001", "name": "苏州精工机械有限公司", "mes_id": "900123", "wms_code": "CUST-01",
     "updated_at": "2026-11-20T08:00:00+08:00"},
    {"code": "C0003", "name": "华东精密机械有限公司", "mes_id": "900789", "wms_code": "CUST-03",
     "updated_at": "2026-11-26T08:00:00+08:00"},
    {"code": "C0004", "name": "深圳创新电子有限公司", "mes_id": "900790", "wms_code": None,
     "updated_at": "2026-11-26T09:15:00+08:00"},
]  # fmt: skip
CUSTOMERS_PER_PAGE = 2


def customers_page(since: str | None, page: int) -> dict[str, Any]:
    """``GET /api/customers?updated_since=&page=``: customers changed after ``since``
    (compared as instants), ``CUSTOMERS_PER_PAGE`` a page, ``next_page`` null on the last."""
    after = datetime.fromisoformat(since) if since else None
    changed = [
        c for c in ERP_CUSTOMERS if after is None or datetime.fromisoformat(c["updated_at"]) > after
    ]
    start = (page - 1) * CUSTOMERS_PER_PAGE
    more = len(changed) > start + CUSTOMERS_PER_PAGE
    return {
        "items": changed[start : start + CUSTOMERS_PER_PAGE],
        "next_page": page + 1 if more else None,
    }


def demo_kingdee() -> KingdeeStandIn:
    """The demo's K/3 Cloud: one data centre, the gateway's user."""
    return KingdeeStandIn(users={(DEMO_KINGDEE_ACCT_ID, DEMO_KINGDEE_USER): DEMO_KINGDEE_PASSWORD})


def demo_yonyou() -> YonyouStandIn:
    """The demo's Yonyou: one app, writes settling at once."""
    return YonyouStandIn(
        app_key=DEMO_YONYOU_APP_KEY,
        app_secret=DEMO_YONYOU_APP_SECRET,
        from_account=DEMO_YONYOU_FROM_ACCOUNT,
        to_account=DEMO_YONYOU_TO_ACCOUNT,
    )


def demo_app(kingdee: KingdeeStandIn | None = None) -> Starlette:
    kingdee = kingdee or demo_kingdee()
    received: dict[str, deque[Any]] = defaultdict(lambda: deque(maxlen=KEEP))
    failures: dict[str, deque[int]] = defaultdict(deque)

    async def fail(request: Request) -> Response:
        """Make the next ``times`` calls to a stand-in answer ``status`` (to try parking)."""
        status = int(request.query_params.get("status", "503"))
        times = int(request.query_params.get("times", "1"))
        failures[request.path_params["system"]].extend([status] * times)
        return Response(
            orjson.dumps({"failing_next": times, "status": status}), media_type="application/json"
        )

    async def receive(request: Request) -> Response:
        system = request.path_params["system"]
        if failures[system]:
            status = failures[system].popleft()
            log.info("demo stand-in failing on purpose", system=system, status=status)
            return Response(
                orjson.dumps({"error": "demo failure"}),
                status_code=status,
                media_type="application/json",
            )
        body = await request.body()
        try:
            document: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            document = body.decode("utf-8", "replace")
        received[system].append(
            {
                "path": request.url.path,
                "idempotency_key": request.headers.get("idempotency-key"),
                "body": document,
            }
        )
        log.info("demo stand-in received", system=system, path=request.url.path)
        return Response(orjson.dumps({"ok": True}), media_type="application/json")

    async def wms_soap(request: Request) -> Response:
        """The WMS's CreatePickRequest operation: parsed safely, recorded, answered."""
        body = await request.body()
        try:
            envelope = xmlsafe.parse(body)
        except xmlsafe.XmlRefused as exc:
            return Response(soap_fault("Client", str(exc)), status_code=500, media_type=SOAP_XML)
        order_no = envelope.findtext(f".//{{{PICK_NS}}}OrderNo") or "?"
        received["wms"].append(
            {
                "path": request.url.path,
                "order_no": order_no,
                "body": body.decode("utf-8", "replace"),
            }
        )
        log.info("demo stand-in received", system="wms", path=request.url.path)
        return Response(pick_response(f"PICK-{order_no}"), media_type=SOAP_XML)

    async def erp_customers(request: Request) -> Response:
        """The ERP's customer list API, which the demo's customer-master interface polls."""
        since = request.query_params.get("updated_since")
        try:
            page = int(request.query_params.get("page", "1"))
            answer = customers_page(since, max(page, 1))
        except (ValueError, TypeError) as exc:  # not a number, not a time, no offset
            return Response(
                orjson.dumps({"error": f"bad page or updated_since: {exc}"}),
                status_code=400,
                media_type="application/json",
            )
        log.info("demo stand-in listed customers", system="erp", since=since, page=page)
        return Response(orjson.dumps(answer), media_type="application/json")

    async def listing(request: Request) -> Response:
        items = list(received[request.path_params["system"]])
        return Response(orjson.dumps(items), media_type="application/json")

    robots = ChatRobots(
        wecom_keys={DEMO_WECOM_KEY}, dingtalk={DEMO_DINGTALK_TOKEN: DEMO_DINGTALK_SECRET}
    )
    return Starlette(
        routes=[
            Mount("/kingdee", kingdee.app()),
            Mount("/yonyou", demo_yonyou().app()),
            *robots.routes(),  # /wecom/..., /dingtalk/...: the team's chat robots
            Route("/wms/soap", wms_soap, methods=["POST"]),
            Route("/erp/api/customers", erp_customers, methods=["GET"]),
            Route("/{system}/received", listing, methods=["GET"]),
            Route("/{system}/fail", fail, methods=["POST"]),
            Route("/{system}/{path:path}", receive, methods=["POST", "PUT"]),
        ]
    )
