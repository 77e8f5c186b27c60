"""The OpenAPI document: FastAPI's, with errors described as they are answered.

FastAPI documents a 422 for every request model; this API answers bad input with
400 VALIDATION_ERROR as a problem, so the 422s and their schemas are replaced,
every operation gets the 401 of the optional bearer token, and the schemas that
routes reference by name (``Problem``, ``ImportedTask``) are added.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.models.requests import ImportedTask
from api.models.responses import Problem
from api.problems import PROBLEM_JSON

REF_TEMPLATE = "#/components/schemas/{model}"


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
    for model in (Problem, ImportedTask):
        schemas[model.__name__] = model.model_json_schema(ref_template=REF_TEMPLATE)
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "CLAIMS_API_TOKEN"}
    }
    for path in document.get("paths", {}).values():
        for operation in path.values():
            _fix_errors(operation)
    app.openapi_schema = document
    return document


def problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": REF_TEMPLATE.format(model="Problem")}}},
    }


def _fix_errors(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    for status, response in responses.items():
        if status.startswith(("4", "5")):
            responses[status] = problem_response(response.get("description", "Error"))
    responses.setdefault("401", problem_response("A bearer token is required (UNAUTHORIZED)"))
    operation["security"] = [{}, {"bearer": []}]
