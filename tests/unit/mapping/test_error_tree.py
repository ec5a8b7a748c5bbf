"""Every exception class of the mapping engine is a MappingError: one error tree."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import esb.mapping
from esb.errors import EsbError, MappingError


def _exception_classes() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.iter_modules(esb.mapping.__path__, "esb.mapping."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
                and not name.startswith("_")  # a private signal that never leaves its module
            ):
                found.append(value)
    return found


def test_every_mapping_exception_is_a_mapping_error() -> None:
    classes = _exception_classes()
    assert len(classes) >= 8
    assert [c.__name__ for c in classes if not issubclass(c, MappingError)] == []
    assert issubclass(MappingError, EsbError)


def test_a_fault_reads_as_the_error_it_becomes() -> None:
    from esb.mapping.faults import Fault

    fault = Fault("not a number").at("Qty").at("[0]").at("Lines")
    assert isinstance(fault, MappingError)
    assert fault.path == "Lines[0].Qty"
    error = fault.to_error()
    assert (type(error), str(error), error.path) == (
        MappingError,
        "Lines[0].Qty: not a number",
        "Lines[0].Qty",
    )
