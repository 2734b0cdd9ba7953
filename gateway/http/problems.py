"""Errors that belong to HTTP itself, beside the domain's own. Each has its status and a
machine code (``gateway.http.codes``); one about a field of the body names its path."""

from domain.errors import field_named


class HttpProblem(Exception):
    status = 400
    code = "MALFORMED_REQUEST"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadRequest(HttpProblem):
    """A request that cannot be taken as it is. One that names a field of the body or a
    parameter (the contract's words: ``Field 'x' ...``, ``Unknown field: x``,
    ``Parameter 'x' ...``, ``Unknown query parameter: x``) is VALIDATION_FAILED, with the
    field's path; any other (not JSON, cut off, framed twice) is MALFORMED_REQUEST."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field if field is not None else field_named(message))
        if self.field is not None or message.startswith(("Parameter ", "Unknown query parameter")):
            self.code = "VALIDATION_FAILED"


class PayloadTooLarge(HttpProblem):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(HttpProblem):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class HeadersTooLarge(HttpProblem):
    """RFC 6585 §5: 431 Request Header Fields Too Large."""

    status = 431
    code = "HEADERS_TOO_LARGE"
