"""Which entities exist, by their API name; apps register theirs when Django starts.

Core uses this for the generic history, recycle-bin and sharing endpoints without importing any app.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from krug.core.errors import NotFound

ENTITIES: dict[str, type] = {}


def register(slug: str, model: type) -> None:
    ENTITIES[slug] = model


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
