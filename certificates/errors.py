"""The one error type for "this action is not allowed now".

Every service refuses with ActionNotAllowed, its message written for the
customer; nothing was changed when it is raised. It is a ValidationError, so a
form can show it as it is; each door maps it to its own answer (the console a
message, the admin a row's reason, the API and ACME a problem document).
Mistakes in what was entered stay plain ValidationErrors, on their fields.
"""

from django.core.exceptions import ValidationError


class ActionNotAllowed(ValidationError):
    def __init__(self, message: str):
        super().__init__(message, code="not_allowed")
