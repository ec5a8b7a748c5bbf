"""The benchmark's hand-written function does what the demo mapping does, so the ratio is fair."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from esb.errors import MappingError, XrefMissing
from esb.mapping import MappingContext, StaticXref, load_mappings
from tests.unit.mapping.helpers import DEMO, REPO, SCENARIO, read_json


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "mapping_bench", REPO / "bench" / "mapping_bench.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench()
XREF = StaticXref.from_masterdata(DEMO / "masterdata")
CASES = ("normal", "urgent", "sample")


@pytest.mark.parametrize(
    "body",
    [
        bench.order_with(2),
        bench.order_with(200),
        *(read_json(SCENARIO / "inputs" / f"sales_order_{c}.json") for c in CASES),
    ],
)
def test_hand_written_equals_the_engine(body: dict[str, object]) -> None:
    mapping = load_mappings(DEMO, {}).get(bench.MAPPING)
    assert bench.hand_written(body, XREF) == mapping(body, MappingContext(XREF))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"CustCode": "C9999"}, XrefMissing),
        ({"OrderType": "09"}, MappingError),
        ({"DeliveryDate": "20261345"}, MappingError),
    ],
)
def test_hand_written_refuses_what_the_engine_refuses(
    change: dict[str, str], error: type[Exception]
) -> None:
    body = {**bench.order_with(2), **change}
    with pytest.raises(error):
        bench.hand_written(body, XREF)
    with pytest.raises(error):
        load_mappings(DEMO, {}).get(bench.MAPPING)(body, MappingContext(XREF))
