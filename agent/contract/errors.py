"""The HTTP error body, ``{"error": {"code", "message", "field"?}}`` (docs/contract.md v1)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = ["ErrorBody", "ErrorInfo", "field_path"]


class ErrorInfo(BaseModel):
    """What went wrong; ``field`` is the dotted path of the offending field (``items.0.price``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    """An HTTP error answer, sent with a 4xx status.

    Example: ``{"error": {"code": "invalid_request", "message": "items.0.price: money must
    be a JSON string, not a JSON number", "field": "items.0.price"}}``.
    """

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "id_conflict",
                        "message": "id crm-1 is known with other content",
                    }
                },
                {
                    "error": {
                        "code": "invalid_request",
                        "message": "items.0.price: money must be a JSON string, not a JSON number",
                        "field": "items.0.price",
                    }
                },
            ]
        },
    )

    error: ErrorInfo

    @classmethod
    def of(cls, code: str, message: str, field: str | None = None) -> ErrorBody:
        """Build an error body."""
        return cls(error=ErrorInfo(code=code, message=message, field=field))

    @classmethod
    def from_validation_error(
        cls, exc: ValidationError, *, code: str = "invalid_request"
    ) -> ErrorBody:
        """The first problem pydantic found, with its field as a dotted path."""
        first = exc.errors(include_url=False)[0]
        field = field_path(first["loc"])
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "unknown field"
        return cls.of(code, f"{field}: {message}" if field else message, field or None)


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a dotted path: ``("items", 0, "price")`` → ``items.0.price``."""
    return ".".join(str(part) for part in loc)
