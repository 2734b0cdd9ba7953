"""Errors that belong to HTTP itself, beside the domain's own."""


class HttpProblem(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(HttpProblem):
    status = 400


class PayloadTooLarge(HttpProblem):
    status = 413
