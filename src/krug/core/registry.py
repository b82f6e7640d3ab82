"""Which entities exist, by their API name; apps register theirs when Django starts.

Core uses this for the generic history, recycle-bin and sharing endpoints without importing any app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from krug.core.errors import NotFound

ENTITIES: dict[str, type] = {}
RESTORERS: dict[str, Callable[[Any, Any], None]] = {}


def register(slug: str, model: type, *, restore: Callable[[Any, Any], None] | None = None) -> None:
    """Make `model` known as `slug`; `restore(obj, by)` undoes what the entity's delete did besides binning
    (showing its timeline entries again, say); plain records.restore when not given."""
    ENTITIES[slug] = model
    if restore is not None:
        RESTORERS[slug] = restore


def restorer_for(slug: str) -> Callable[[Any, Any], None]:
    from krug.core import records

    return RESTORERS.get(slug, records.restore)


def model_for(slug: str) -> type:
    try:
        return ENTITIES[slug]
    except KeyError:
        raise NotFound(_("Unknown entity %(slug)s") % {"slug": slug}) from None


def slug_for(model: type) -> str:
    for slug, registered in ENTITIES.items():
        if registered is model:
            return slug
    raise KeyError(model)
