"""Every API error is JSON: {"error": {"status", "code", "message", "field"?, "fields"?}}."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The upload is too large."
    default_code = "too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable."
    default_code = "unavailable"


def _flatten(detail, prefix=""):
    """Validation details as {"a.b": "message"}; nested serializers give dotted field paths."""
    if isinstance(detail, dict):
        out = {}
        for key, value in detail.items():
            # A list field's errors come keyed by index ({"files": {0: [...]}}): files[0], as elsewhere.
            step = f"[{key}]" if isinstance(key, int) else f".{key}"
            path = str(key) if not prefix else (prefix if key == "non_field_errors" else f"{prefix}{step}")
            if key == "non_field_errors" and not prefix:
                path = "non_field_errors"
            out.update(_flatten(value, path))
        return out
    if isinstance(detail, list):
        if detail and all(not isinstance(d, (dict, list)) for d in detail):
            return {prefix or "non_field_errors": " ".join(str(d) for d in detail)}
        out = {}
        for index, value in enumerate(detail):
            if value:
                out.update(_flatten(value, f"{prefix}[{index}]" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": str(detail)}


def _code(exc) -> str:
    # Asked of the exception: its detail (an ErrorDetail, or a dict of them) cannot list the codes.
    codes = exc.get_codes() if hasattr(exc, "get_codes") else None
    while isinstance(codes, (dict, list)) and codes:
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return codes if isinstance(codes, str) else "error"


def error_body(status_code: int, code: str, message: str, field: str | None = None, fields=None) -> dict:
    body = {"status": status_code, "code": code, "message": message}
    if field:
        body["field"] = field
    if fields:
        body["fields"] = fields
    return {"error": body}


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first_field, first_message = next(iter(fields.items()), (None, "Invalid request."))
        field = None if first_field == "non_field_errors" else first_field
        message = f"{field}: {first_message}" if field else first_message
        body = error_body(response.status_code, _code(exc), message, field, fields)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        body = error_body(response.status_code, _code(exc), str(detail))
    return Response(body, status=response.status_code, headers=dict(response.items()))


def json_404(request, exception=None):
    return JsonResponse(error_body(404, "not_found", "Not found."), status=404)


def json_500(request):
    return JsonResponse(error_body(500, "server_error", "Internal server error."), status=500)


def json_400(request, exception=None):
    """Django's own 400s (a request over its size or count limits, before any view ran):
    JSON under /api/ like every other error there, with the limit that was hit."""
    from django.conf import settings
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent

    if not request.path.startswith("/api/"):
        from django.views.defaults import bad_request

        return bad_request(request, exception)
    if isinstance(exception, TooManyFilesSent):
        message = f"At most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files per request."
    elif isinstance(exception, TooManyFieldsSent):
        message = f"At most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields per request."
    elif isinstance(exception, RequestDataTooBig):
        message = (f"The request body (not counting uploaded files) is over "
                   f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    else:
        message = "Bad request."
    return JsonResponse(error_body(400, "bad_request", message), status=400)

