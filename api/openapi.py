"""The OpenAPI document: FastAPI's, with errors described as they are answered.

FastAPI documents a 422 for every request model; this API answers bad input with
400 VALIDATION_ERROR as a problem, so the 422s and their schemas are replaced,
every operation gets the 401 of the optional bearer token, the schemas that routes
reference by name (every body class they answer with, ``Problem``, ``ImportedTask``)
are added, lease lengths carry
this server's configured range, and path ids the ledger's id pattern.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.models.requests import ID_PATTERN, ImportedTask
from api.models.responses import Problem
from api.problems import PROBLEM_JSON
from api.wire import DOCUMENTED
from ledger.config import ClaimConfig

REF_TEMPLATE = "#/components/schemas/{model}"
TTL_FIELDS = (
    ("ClaimRequest", "ttlMs"),
    ("TakeoverRequest", "ttlMs"),
    ("HeartbeatRequest", "extendMs"),
)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The document, built once per app."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas[ImportedTask.__name__] = ImportedTask.model_json_schema(ref_template=REF_TEMPLATE)
    schemas.update(_body_schemas())
    schemas.update(_analytics_schemas())
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "CLAIMS_API_TOKEN"}
    }
    for path in document.get("paths", {}).values():
        for operation in path.values():
            _fix_errors(operation)
            _id_parameters(operation)
    _ttl_bounds(schemas, app.state.runtime.service.config)
    app.openapi_schema = document
    return document


def problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": REF_TEMPLATE.format(model="Problem")}}},
    }


def _body_schemas() -> dict[str, Any]:
    """The schemas of the bodies the routes answer with, from their msgspec classes."""
    found: set[type[msgspec.Struct]] = {*DOCUMENTED, Problem}
    bodies = sorted(found, key=lambda body: body.__name__)
    _, components = msgspec.json.schema_components(
        bodies, ref_template=REF_TEMPLATE.replace("{model}", "{name}")
    )
    return components


def _analytics_schemas() -> dict[str, Any]:
    """The analytics results' own schemas (msgspec Structs), and the checkpoint header."""
    from projections.analytics import Payout, Stats, Trail
    from projections.cost import CostTotals

    _, components = msgspec.json.schema_components(
        [Stats, Trail, Payout, CostTotals], ref_template=REF_TEMPLATE.replace("{model}", "{name}")
    )
    components["AnalyticsHeader"] = {
        "type": "object",
        "required": ["success", "position", "headHash"],
        "properties": {
            "success": {"const": True},
            "position": {"type": "integer"},
            "headHash": {"type": "string"},
        },
    }
    return components


def _ttl_bounds(schemas: dict[str, Any], config: ClaimConfig) -> None:
    """The lease lengths this server accepts, from its settings (``CLAIMS_MIN_TTL`` ...)."""
    for model, field in TTL_FIELDS:
        for branch in schemas.get(model, {}).get("properties", {}).get(field, {}).get("anyOf", []):
            if branch.get("type") == "integer":
                branch["minimum"] = config.min_ttl
                branch["maximum"] = config.max_ttl


def _id_parameters(operation: dict[str, Any]) -> None:
    """Path ids follow the ledger's id rules."""
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path" and parameter["name"] in ("taskId", "sessionId"):
            parameter["schema"].update(maxLength=128, pattern=ID_PATTERN)


def _fix_errors(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    for status, response in responses.items():
        if status.startswith(("4", "5")):
            responses[status] = problem_response(response.get("description", "Error"))
    responses.setdefault("401", problem_response("A bearer token is required (UNAUTHORIZED)"))
    operation["security"] = [{}, {"bearer": []}]
