"""Cursor pagination for lists ordered newest first by (created_at, id).

The cursor names the last row of a page; the next page is the rows after it,
found through the same index as the first page, so page 1,000 costs what page 1
does. The `Link` header (RFC 8288) carries the next page's URL.
"""

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext

MAX_LIMIT = 100


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def encode_cursor(row) -> str:
    data = json.dumps([row.created_at.isoformat(), row.pk]).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        when = datetime.fromisoformat(created_at)
        if when.tzinfo is None or not isinstance(pk, int):
            raise ValueError(cursor)
        return when, pk
    except (ValueError, TypeError, UnicodeError):
        raise ValidationError(
            {"cursor": gettext("This cursor is not valid: use the one the previous page gave.")}
        ) from None


def paginate(queryset: QuerySet, *, cursor: str | None, limit: int) -> Page:
    """One page of a queryset ordered by (-created_at, -id), and the cursor after it."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(
            {"limit": gettext("Ask for 1 to %(maximum)s items a page.") % {"maximum": MAX_LIMIT}}
        )
    if cursor:
        created_at, pk = decode_cursor(cursor)
        queryset = queryset.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk)
        )
    rows = list(queryset.order_by("-created_at", "-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(rows[-1]) if more else None)


def next_link(request: HttpRequest, page: Page) -> str | None:
    """The `Link` header's value for the next page, the query's other parameters kept."""
    if page.next_cursor is None:
        return None
    query = request.GET.copy()
    query["cursor"] = page.next_cursor
    return f'<{request.build_absolute_uri(request.path)}?{query.urlencode()}>; rel="next"'
