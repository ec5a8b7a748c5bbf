"""The mapping engine: YAML mapping files compiled once into fast closures.

Delivery calls ``load_mappings(folder, env).get(name)(body, MappingContext(xref))``;
ingress uses ``compile_input_schema`` and ``compile_expression``; ``esb mapping
test`` uses ``run_mapping_test``. Every other module of this package is private.
Run-time data problems raise ``esb.errors.MappingError`` / ``XrefMissing``; file
problems raise ``esb.errors.ConfigError``. Every exception class of this package
derives from ``MappingError`` (``ExpressionError``, ``InputSchemaError``, ...).

A pure library: it imports nothing of the gateway (config, store, API, broker,
connectors) and no web, database or broker library, so a tool or a test can map
documents without them. ``esb.configfile`` reads its YAML files. The import
contracts in ``pyproject.toml`` keep it so (``lint-imports``, docs/architecture.md).
"""

from esb.mapping.engine import CompiledMapping, MappingContext, MappingSet
from esb.mapping.expressions import Expression, ExpressionError, compile_expression
from esb.mapping.inputs import (
    InputSchemaError,
    InputValidator,
    compile_input_schema,
    load_input_schema,
)
from esb.mapping.loader import load_mappings, schema_models
from esb.mapping.models import CodeTableFile, MappingFile
from esb.mapping.testing import (
    ABSENT,
    Difference,
    MappingTestResult,
    compare,
    run_mapping_test,
)
from esb.mapping.xref import StaticXref, XrefLookup, parse_masterdata, read_masterdata

__all__ = [
    "ABSENT",
    "CodeTableFile",
    "CompiledMapping",
    "Difference",
    "Expression",
    "ExpressionError",
    "InputSchemaError",
    "InputValidator",
    "MappingContext",
    "MappingFile",
    "MappingSet",
    "MappingTestResult",
    "StaticXref",
    "XrefLookup",
    "compare",
    "compile_expression",
    "compile_input_schema",
    "load_input_schema",
    "load_mappings",
    "parse_masterdata",
    "read_masterdata",
    "run_mapping_test",
    "schema_models",
]
