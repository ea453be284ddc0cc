"""A customer's comment as both backends store it: in a row's columns, and two messages joined."""

from __future__ import annotations

from .records import Comment
from .rows import Row

COMMENT_LIMIT = 4000  # characters kept of a comment, as the customer handler clips it


def stored_comment(row: Row, prefix: str = "") -> Comment | None:
    """The comment kept in a row's `<prefix>comment`, `_kind`, `_file_id` columns, if any."""
    kind = row[f"{prefix}comment_kind"]
    if not kind:
        return None
    return Comment(row[f"{prefix}comment"], kind, row[f"{prefix}comment_file_id"])


def joined(first: Comment, then: Comment) -> Comment:
    """Two messages of one comment: the texts one after the other; the newer media wins."""
    text = "\n".join(part for part in (first.text, then.text) if part)[:COMMENT_LIMIT] or None
    if then.file_id is not None or first.file_id is None:
        return Comment(text, then.kind, then.file_id)
    return Comment(text, first.kind, first.file_id)
