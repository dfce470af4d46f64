"""Three-way merge of one co-edited record: the version an editor started from, the record as it
is now, and what the editor wants it to be."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MergeResult:
    """The merged fields, and the fields both sides changed to different values."""

    merged: dict[str, Any]
    conflicts: tuple[str, ...] = field(default=())

    @property
    def clean(self) -> bool:
        return not self.conflicts


def merge(
    base: Mapping[str, Any], theirs: Mapping[str, Any], mine: Mapping[str, Any]
) -> MergeResult:
    """Merge ``mine`` onto ``theirs``, both descended from ``base``.

    A field only I changed takes my value; a field only they changed keeps theirs; a field we
    both changed to the same value is that value; a field we both changed differently is a
    conflict and keeps theirs, so nothing saved is ever overwritten unseen. Fields I did not
    send are left as they are.
    """
    merged = dict(theirs)
    conflicts = []
    for name, my_value in mine.items():
        base_value = base.get(name)
        their_value = theirs.get(name)
        if my_value in (base_value, their_value):
            continue
        if their_value == base_value:
            merged[name] = my_value
        else:
            conflicts.append(name)
    return MergeResult(merged=merged, conflicts=tuple(sorted(conflicts)))
