"""Warnings about keys the provider does not read, with the nearest key it does read.

Upstream silently ignores unknown keys, both in ``spec.parameters`` and inside each
``objects`` element, so a misspelt ``userAssignedIdentityId`` or ``objectname`` simply has no
effect (cases BB-05, BB-02). kvcsi keeps upstream's behaviour (the mount is not refused for an
unknown key) but says so, naming the nearest known key::

    unknown parameter "userAssignedIdentityId" (did you mean "userAssignedIdentityID"?)

Nearest = the same key in another letter case, else the closest spelling
(:func:`difflib.get_close_matches` on lower-cased keys).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

SIMILARITY_CUTOFF = 0.75


def nearest_key(key: str, known: Iterable[str]) -> str | None:
    """The known key ``key`` most probably meant, or None."""
    candidates = list(known)
    lowered = {candidate.lower(): candidate for candidate in candidates}
    if key.lower() in lowered:
        return lowered[key.lower()]
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=SIMILARITY_CUTOFF)
    return lowered[close[0]] if close else None


def did_you_mean(key: str, known: Iterable[str]) -> str:
    """`` (did you mean "X"?)`` or the empty string."""
    nearest = nearest_key(key, known)
    return f' (did you mean "{nearest}"?)' if nearest else ""
