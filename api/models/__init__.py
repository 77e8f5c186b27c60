"""pydantic models of the HTTP bodies: they validate requests and give the OpenAPI document."""
