"""Who calls the API: a personal token in `Authorization: Bearer`, never a session.

Read endpoints take any live token; endpoints that change something need a
read-write one (a read token gets 403). The token's owner is the actor of every
service call, and its label goes into every audit event written meanwhile.
"""

import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from api import tokens
from api.models import ApiToken


class TokenAuth(HttpBearer):
    def __init__(self, *, write: bool) -> None:
        super().__init__()
        self.write = write

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = tokens.token_for(token)
        if found is None:
            return None
        count_request(found)
        if self.write and not found.allows_writes:
            raise AuthorizationError(
                message=gettext("This token may only read: use a read-write token.")
            )
        # Whoever a session cookie names, the token's owner is the one acting.
        request.user = found.owner
        return found


READ = TokenAuth(write=False)
WRITE = TokenAuth(write=True)


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def count_request(token: ApiToken) -> None:
    """Count a request against the token's API_RATE_LIMIT a minute, or raise RateLimited.

    A fixed one-minute window in the cache: add() and incr() are atomic in the
    cache backends Django ships and in Redis, so parallel requests are all counted.
    """
    now = time.time()
    window = int(now // 60)
    key = f"api-rate:{token.pk}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:
        # The entry was evicted between add() and incr(): this request starts a new count.
        cache.set(key, 1, timeout=120)
        count = 1
    if count > settings.API_RATE_LIMIT:
        raise RateLimited(retry_after=max(1, math.ceil((window + 1) * 60 - now)))
