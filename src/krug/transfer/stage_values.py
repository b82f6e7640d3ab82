"""What a deal file's stage values become, chosen per pipeline: «Переговоры» may be a different stage in each,
and a deal's stage must be one of its pipeline's.

`values["stage"]` is {pipeline id: {value: stage name}} (`ANY`: for every pipeline that has the stage), and the
deal import applies it (`importer.deal_stage`) once it knows the row's pipeline; the value page lists a stage
column's values by the pipeline of their rows (`stage_lists`). The other value columns are `transfer.values`'.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from krug.core.errors import FieldErrors
from krug.transfer.models import ImportJob
from krug.transfer.values import EMPTY, MAX_VALUES, Option, norm

if TYPE_CHECKING:
    from krug.transfer.values import Recogniser

ANY = "*"  # stage choices made for every pipeline that has the chosen stage (`stage_choices`)


def every_stage(by) -> list[Option]:
    """Every live stage's name once, with the pipelines that have it: a row's pipeline decides which one."""
    from krug.sales import services
    from krug.sales.models import Stage

    services.default_pipeline(by)  # made on first use, as the import makes it
    pipelines: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for name, pipeline in (Stage.objects.alive().filter(pipeline__deleted_at__isnull=True)
                           .order_by("pipeline__position", "pipeline_id", "position")
                           .values_list("name", "pipeline__name")):
        names.setdefault(norm(name), name)
        pipelines.setdefault(norm(name), []).append(pipeline)
    return [Option(name, f"{name} ({', '.join(pipelines[key])})") for key, name in names.items()]


class Pipelines:
    """The live pipelines with their live stages, read at once: what a deal row's pipeline and stage names point
    at (compared as `norm` keys them) and which pipeline its stage value is looked for, and chosen, in (`home`).
    The import (`importer.deal_stage`) and the value page ask the same."""

    def __init__(self) -> None:
        from krug.sales import services
        from krug.sales.models import Pipeline, Stage

        self.all = list(Pipeline.objects.alive().order_by("position", "pk"))
        by_id = {pipeline.pk: pipeline for pipeline in self.all}
        self.stages: dict[int, list] = {pk: [] for pk in by_id}
        for stage in Stage.objects.alive().filter(pipeline_id__in=list(by_id)).order_by("position", "pk"):
            stage.pipeline = by_id[stage.pipeline_id]
            self.stages[stage.pipeline_id].append(stage)
        self.default = next((p for p in self.all if p.is_default), self.all[0] if self.all else None)
        pipeline_names, stage_names = services.standard_spellings()
        #: the standard names in every language, each to its group: a standard stage made in English is still
        #: «Переговоры» to a Russian file (a stage renamed by hand is only its own name)
        self.standard_pipeline = {norm(name): 0 for name in pipeline_names}
        self.standard_stages = {norm(name): group for group, names in enumerate(stage_names) for name in names}

    @staticmethod
    def _same(name: str, key: str, standard: dict[str, int]) -> bool:
        """Whether a pipeline's or stage's `name` is the one a file's value (keyed `key`) names: the same name,
        or the same standard name in another language."""
        own = norm(name)
        return own == key or (key in standard and standard.get(own) == standard[key])

    def named(self, name: str):
        key = norm(name)
        return next((pipeline for pipeline in self.all if norm(pipeline.name) == key), None) or next(
            (pipeline for pipeline in self.all if self._same(pipeline.name, key, self.standard_pipeline)), None)

    def find(self, key: str):
        """A pipeline as a stage choice names it: by its id, else by its name."""
        return next((pipeline for pipeline in self.all if str(pipeline.pk) == key), None) or self.named(key)

    def stage(self, pipeline, name: str):
        key, stages = norm(name), self.stages.get(pipeline.pk, ())
        return next((stage for stage in stages if norm(stage.name) == key), None) or next(
            (stage for stage in stages if self._same(stage.name, key, self.standard_stages)), None)

    def having(self, name: str) -> list:
        """The pipelines with a stage of this name, in their order: of this very name when some have one, else
        of the same standard stage in another language."""
        key = norm(name)
        exact = [p for p in self.all if any(norm(stage.name) == key for stage in self.stages.get(p.pk, ()))]
        return exact or [pipeline for pipeline in self.all if self.stage(pipeline, name) is not None]

    def home(self, pipeline, stage_name: str):
        """The pipeline a row's stage is looked for in: its own; without one the default, unless only other
        pipelines have the stage, then the first of those (as a file without pipelines has always been read)."""
        if pipeline is not None or self.default is None or self.stage(self.default, stage_name) is not None:
            return pipeline or self.default
        return next(iter(self.having(stage_name)), self.default)


def stage_choices(job: ImportJob, known: Pipelines | None = None) -> dict[int, dict[str, str]]:
    """What a deal row's stage value becomes in the row's pipeline: {pipeline id: {norm(value): stage name or
    EMPTY}}. A choice for every pipeline (`ANY`, or one stored before stages were chosen per pipeline, {value:
    stage name}) counts in each pipeline that has a stage of that name (EMPTY: in each), unless chosen there."""
    known = known or Pipelines()
    groups = stage_groups((job.values or {}).get("stage") or {})
    out = {int(key): group for key, group in groups.items() if key.isdigit()}
    for value, target in groups.get(ANY, {}).items():
        for pipeline in known.all if target == EMPTY else known.having(target):
            out.setdefault(pipeline.pk, {}).setdefault(value, target)
    return out


def stage_groups(stored: dict) -> dict[str, dict[str, str]]:
    """Stored stage choices by pipeline (its id as text, or ANY); those stored before stages were chosen per
    pipeline ({value: stage name}) are ANY's."""
    groups = {key: dict(group) for key, group in stored.items() if isinstance(group, dict)}
    flat = {value: target for value, target in stored.items() if not isinstance(target, dict)}
    if flat:
        groups[ANY] = {**flat, **groups.get(ANY, {})}
    return groups


def _allowed(known: Pipelines, key: str) -> set[str] | None:
    """The stage names a stage choice of the pipeline `key` (an id or name, or ANY: any pipeline's) may be;
    None when there is no such pipeline."""
    if key == ANY:
        return {stage.name for stages in known.stages.values() for stage in stages}
    pipeline = known.find(key)
    return None if pipeline is None else {stage.name for stage in known.stages[pipeline.pk]}


def stage_lists(job: ImportJob, recognise: Recogniser, tally: dict, label: str) -> list[dict]:
    """The stage values, a list for each pipeline they are chosen in (`Pipelines.home` of the row's pipeline,
    after its own choice), with that pipeline's stages as options; the values of rows whose pipeline is not
    recognised (yet) in one more list, chosen for every pipeline that has the stage (`ANY`). `tally`: the
    file's values as `values.tally` counted them."""
    from krug.sales import services

    services.default_pipeline(job.by)  # made on first use, as the import makes it
    known = Pipelines()
    chosen = stage_choices(job, known)
    chosen[None] = stage_groups((job.values or {}).get("stage") or {}).get(ANY, {})
    groups, left, spelled = _grouped(job, known, tally)
    distinct = tally["columns"]["stage"]["distinct"]  # a list's values left out are at most the column's others
    out = []
    for pipeline in [*known.all, None]:
        at = pipeline.pk if pipeline else None
        counted = groups.get(at, Counter())
        if not counted and not left[at]:
            continue
        picked, values = chosen.get(at, {}), []
        for key, count in counted.most_common(MAX_VALUES):
            text = spelled[key]
            stage = known.stage(pipeline, key) if pipeline else None
            recognised = (stage.name if stage else None) if pipeline else recognise("stage", text)
            elsewhere = [p.name for p in known.having(key)] if pipeline and stage is None else []
            values.append({"value": text, "key": key, "rows": count, "recognised": recognised,
                           "becomes": picked[key] if key in picked else recognised, "chosen": key in picked,
                           "problem": services.stage_elsewhere(text, elsewhere, pipeline.name) if elsewhere else ""})
        values.sort(key=lambda v: (v["becomes"] is not None, -v["rows"]))
        more = max(len(counted) - MAX_VALUES, 0) + min(left[at], distinct - len(counted))
        options = ([{"value": s.name, "label": s.name} for s in known.stages[pipeline.pk]] if pipeline else
                   [{"value": o.value, "label": o.label} for o in recognise.options("stage")])
        out.append({"field": "stage", "pipeline": pipeline.name if pipeline else None, "pipeline_id": at,
                    "label": f"{label} · {pipeline.name}" if pipeline else
                    _("%(field)s · rows whose pipeline is not recognised yet (the stage of this name in any "
                      "pipeline)") % {"field": label},
                    "values": values, "more": more, "options": options})
    return out


def _grouped(job: ImportJob, known: Pipelines, tally: dict) -> tuple[dict[int | None, Counter], Counter, dict]:
    """The tally's stage values by the list they are in ({pipeline id or None: {value key: rows}}), how many
    values each list has that the tally did not keep (a file of very many pairs of pipeline and stage), and
    each value's spelling by its key. The user's pipeline choices are applied here, not in the tally."""
    pipelines = (job.values or {}).get("pipeline") or {}
    spelled = {norm(text): text for text, _rows in tally["columns"]["stage"]["top"]}
    by_index = list(spelled)
    groups: dict[int | None, Counter] = {}
    left: Counter = Counter({None: tally["stages_left"]})
    for cell in tally["stages"]:
        target = pipelines.get(cell["pipeline"], cell["pipeline"])
        pipeline = known.named(target) if target else None
        for index, count in cell["top"]:
            key = by_index[index]
            home = None if target and pipeline is None else known.home(pipeline, key)
            groups.setdefault(home.pk if home else None, Counter())[key] += count
        if cell["left"]:  # in the list of the row's pipeline (without one, the default's): their stage is unknown
            home = None if target and pipeline is None else pipeline or known.default
            left[home.pk if home else None] += cell["left"]
    return groups, left, spelled


def checked_stages(job: ImportJob, choices: dict, errors: FieldErrors) -> dict[str, dict[str, str]]:
    """Stage choices, cleaned: {pipeline id: {value: one of its stages}}, given by a pipeline's id or name; a
    choice for every pipeline (`ANY`, or {value: stage}, as before stages were chosen per pipeline) stays ANY's.
    A pipeline that is not there, or a stage that is not one of its own, is named on `values.stage.<pipeline>`
    (`values.stage` for the old form)."""
    from krug.sales import services

    services.default_pipeline(job.by)  # made on first use, as the page and the import make it
    known = Pipelines()
    cleaned: dict[str, dict[str, str]] = {}
    for key, given in choices.items():
        where, group = (f"values.stage.{key}", given) if isinstance(given, dict) else ("values.stage", {key: given})
        pipeline_key = ANY if not isinstance(given, dict) or key == ANY else key
        allowed = _allowed(known, pipeline_key)
        if allowed is None:
            errors.add(where, _("no pipeline %(name)s") % {"name": key})
            continue
        pipeline = None if pipeline_key == ANY else known.find(pipeline_key)
        into = cleaned.setdefault(str(pipeline.pk) if pipeline else ANY, {})
        for value, target in group.items():
            target = "" if target is None else str(target)
            if target != EMPTY and target not in allowed:
                message = (_("«%(value)s» cannot become «%(target)s»: not a stage of the pipeline «%(pipeline)s»")
                           if pipeline else _("«%(value)s» cannot become «%(target)s»: not one of the choices"))
                errors.add(where, message % {"value": value, "target": target,
                                             "pipeline": pipeline.name if pipeline else ""})
                continue
            into[norm(str(value))] = target
    return {key: group for key, group in cleaned.items() if group}


def remembered_stages(stages: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Earlier stage choices by pipeline (`values.remembered`), a pipeline's while it is there, each while its
    stage is."""
    known = Pipelines()
    allowed = {key: _allowed(known, key) for key in stages}
    return {key: kept for key, group in stages.items() if allowed[key] is not None and (
        kept := {value: target for value, target in group.items() if target in allowed[key] | {EMPTY}})}
