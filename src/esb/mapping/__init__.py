"""The mapping engine: YAML mapping files compiled once into fast closures.

Delivery calls ``load_mappings(folder, env).get(name)(body, MappingContext(xref))``;
ingress uses ``compile_input_schema`` and ``compile_expression``. Everything else in
this package is private.
"""

from esb.mapping.engine import CompiledMapping, MappingContext, MappingSet
from esb.mapping.expressions import Expression, ExpressionError, compile_expression
from esb.mapping.loader import load_mappings, schema_models
from esb.mapping.models import CodeTableFile, MappingFile
from esb.mapping.xref import StaticXref, XrefLookup, parse_masterdata, read_masterdata

__all__ = [
    "CodeTableFile",
    "CompiledMapping",
    "Expression",
    "ExpressionError",
    "MappingContext",
    "MappingFile",
    "MappingSet",
    "StaticXref",
    "XrefLookup",
    "compile_expression",
    "load_mappings",
    "parse_masterdata",
    "read_masterdata",
    "schema_models",
]
