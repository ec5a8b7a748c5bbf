"""The public API is exactly what __all__ says, and every name in it exists."""

from __future__ import annotations

import esb.mapping


def test_all_names_the_public_api() -> None:
    exported = {name for name in dir(esb.mapping) if not name.startswith("_")}
    modules = {name for name in exported if type(getattr(esb.mapping, name)).__name__ == "module"}
    assert set(esb.mapping.__all__) == exported - modules
    assert {
        "load_mappings",
        "MappingSet",
        "CompiledMapping",
        "MappingContext",
        "XrefLookup",
        "StaticXref",
        "compile_expression",
        "Expression",
        "ExpressionError",
        "compile_input_schema",
        "InputValidator",
        "run_mapping_test",
        "MappingTestResult",
    } <= set(esb.mapping.__all__)
