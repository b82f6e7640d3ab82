from django.apps import AppConfig


class QualityConfig(AppConfig):
    """Data quality: normalisers used by every write, the job-title dictionary, duplicates and data health."""

    name = "krug.quality"
    label = "quality"
