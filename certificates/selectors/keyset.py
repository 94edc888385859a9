"""Keyset pagination of the overview's list, newest first.

A page is found from the entry it continues from, never by an OFFSET: the
cursor in the URL is that entry's place in the list's order (its creation time
and id), and the next page is the rows before it in that order. Each page is
one index range scan of one page's rows, the last page as cheap as the first,
and a certificate added between page loads shifts nothing, so walking through
the pages shows every certificate exactly once. The URL stays shareable: the
same cursor gives the same page to anyone who owns those certificates.

django-cursor-pagination was looked at: its condition is an OR of comparisons
with IS NULL branches (and NULLS LAST ordering), which PostgreSQL cannot use
as a bound of the (owner, created_at, id) index, so deep pages there scan
every row before them. Here the bound is `created_at <= t`, which the index
serves, and the id only breaks ties within that one instant.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The list's order; the cursor names a place in it.
NEWEST_FIRST = ("-created_at", "-id")
OLDEST_FIRST = ("created_at", "id")


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    pk: int

    @classmethod
    def of(cls, entry) -> "Cursor":
        return cls(entry.created_at, entry.pk)

    @classmethod
    def parse(cls, text: str | None) -> "Cursor | None":
        """The cursor a URL carries, or None when it is missing or not one of ours."""
        micros, _, pk = (text or "").partition("-")
        if not (micros.isdigit() and pk.isdigit()) or len(micros) > 18 or len(pk) > 18:
            return None
        try:
            return cls(EPOCH + timedelta(microseconds=int(micros)), int(pk))
        except OverflowError:
            return None

    def __str__(self) -> str:
        # Whole microseconds, so the cursor is exact (a float would round).
        return f"{(self.created_at - EPOCH) // timedelta(microseconds=1)}-{self.pk}"

    def older(self) -> Q:
        """Entries after this one in the list (created before it)."""
        return Q(created_at__lte=self.created_at) & (
            Q(created_at__lt=self.created_at) | Q(pk__lt=self.pk)
        )

    def newer(self) -> Q:
        """Entries before this one in the list (created after it)."""
        return Q(created_at__gte=self.created_at) & (
            Q(created_at__gt=self.created_at) | Q(pk__gt=self.pk)
        )


@dataclass(frozen=True)
class KeysetPage:
    object_list: list
    # Cursors for the links to the newer and the older entries; None at either end.
    newer: Cursor | None
    older: Cursor | None

    @property
    def is_first(self) -> bool:
        return self.newer is None

    @property
    def is_last(self) -> bool:
        return self.older is None


def keyset_page(
    entries: QuerySet,
    *,
    size: int,
    after: Cursor | None = None,
    before: Cursor | None = None,
    last: bool = False,
) -> KeysetPage:
    """One page of `entries` (newest first): the first, the one after or before a cursor, or
    the last. One query of at most `size` + 1 rows, the extra row telling whether more follow.
    """
    if before is not None or last:
        # Read backwards from the cursor (or from the oldest entry), then show newest first.
        backwards = entries.order_by(*OLDEST_FIRST)
        if before is not None:
            backwards = backwards.filter(before.newer())
        rows = list(backwards[: size + 1])
        more = len(rows) > size
        rows = rows[:size][::-1]
        if before is not None and not more:
            # Back at the top: the first page, full, rather than a short page above it.
            return keyset_page(entries, size=size)
        return KeysetPage(
            rows,
            newer=Cursor.of(rows[0]) if more else None,
            older=Cursor.of(rows[-1]) if rows and not last else None,
        )
    forwards = entries.order_by(*NEWEST_FIRST)
    if after is not None:
        forwards = forwards.filter(after.older())
    rows = list(forwards[: size + 1])
    if after is not None and not rows:
        # Past the end (the entries after it are gone): the last page instead.
        return keyset_page(entries, size=size, last=True)
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        rows,
        newer=Cursor.of(rows[0]) if after is not None else None,
        older=Cursor.of(rows[-1]) if more else None,
    )


def bounded_count(entries: QuerySet, *, limit: int) -> tuple[int, bool]:
    """How many `entries` there are, counting at most `limit`: (count, whether there are more).

    A filtered list (a search, a brand) has no kept count; counting it all could
    read every certificate of a large customer for one line of text.
    """
    counted = entries.order_by()[: limit + 1].count()
    return min(counted, limit), counted > limit
