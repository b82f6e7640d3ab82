"""Domain errors raised by services; the API and the UI turn them into 4xx answers naming the field."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str = "", *, errors: dict[str, list[str]] | None = None, extra=None):
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.errors = errors or {}
        self.extra = extra or {}

    def as_dict(self) -> dict:
        body: dict = {"detail": self.message, "code": self.code}
        if self.errors:
            body["errors"] = [
                {"field": field, "message": msg} for field, msgs in self.errors.items() for msg in msgs
            ]
        body.update(self.extra)
        return body


class ValidationFailed(DomainError):
    """One or more fields are invalid."""

    status = 422
    code = "validation_failed"

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", errors={field: [message]})


class NotFound(DomainError):
    """Not found."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """You are not allowed to do this."""

    status = 403
    code = "forbidden"


class VersionConflict(DomainError):
    """The record was changed by someone else since you loaded it."""

    status = 409
    code = "version_conflict"


class Conflict(DomainError):
    """The request conflicts with the current state of the data."""

    status = 409
    code = "conflict"


class FieldErrors:
    """Collects field errors so a service reports all of them at once, then raises."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            first = next(iter(self.errors.items()))
            raise ValidationFailed(f"{first[0]}: {first[1][0]}", errors=self.errors)
