"""The client base: companies, contacts (with phones, e-mails, tags), leads, and the timeline."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from krug.core.models import OwnedModel, binned_index


class Company(OwnedModel):
    class LegalForm(models.TextChoices):
        OOO = "ООО", "ООО"
        AO = "АО", "АО"
        PAO = "ПАО", "ПАО"
        IP = "ИП", "ИП"
        GOV = "ГУП", "ГУП/МУП"
        NKO = "НКО", "НКО"
        FOREIGN = "foreign", _("foreign company")
        OTHER = "other", _("other")

    name = models.CharField(_("name"), max_length=300)
    legal_form = models.CharField(_("legal form"), max_length=16, choices=LegalForm.choices, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True, db_index=True)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    ogrn = models.CharField(_("OGRN"), max_length=15, blank=True)
    industry = models.CharField(_("industry"), max_length=120, blank=True)
    size = models.CharField(_("size"), max_length=32, blank=True)
    region = models.CharField(_("region"), max_length=120, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    address = models.CharField(_("address"), max_length=500, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    founded = models.DateField(_("founded"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    custom = models.JSONField(default=dict, blank=True)
    # name, INN, city and address (`clients.services._company_key`)
    search_key = models.CharField(max_length=1000, editable=False, db_index=True)

    audited_fields = ("name", "legal_form", "inn", "kpp", "ogrn", "industry", "size", "region", "city",
                      "address", "website", "phone", "email", "founded", "description", "custom", "owner")

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [models.Index(fields=["owner", "-id"], name="company_owner_idx"), binned_index("company_binned_idx")]

    def __str__(self) -> str:
        return self.title(self.name, self.legal_form)

    @classmethod
    def title(cls, name: str, legal_form: str) -> str:
        """A company's name with its legal form as Russians write it: `ООО «Вектор Плюс»`, a sole proprietor
        without quotes (`ИП Иванов Иван Иванович`), a name that has its own quotes as it is; a foreign or other
        company by its name alone."""
        if legal_form in ("", cls.LegalForm.OTHER, cls.LegalForm.FOREIGN) or not name:
            return name
        if legal_form == cls.LegalForm.IP or name[0] in "«“„\"'":  # the value is the form as written: ГУП, ООО
            return f"{legal_form} {name}"
        return f"{legal_form} «{name}»"


class Tag(models.Model):
    name = models.CharField(max_length=64)
    key = models.CharField(max_length=64, unique=True, help_text="casefolded name: one tag whatever the case")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(OwnedModel):
    class ClientType(models.TextChoices):
        NEW = "new", _("new")
        RETURNING = "returning", _("returning")
        VIP = "vip", _("VIP")
        KEY = "key", _("key account")
        PARTNER = "partner", _("partner")
        SUPPLIER = "supplier", _("supplier")

    surname = models.CharField(_("surname"), max_length=150, blank=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True)
    job_title = models.CharField(_("standard job title"), max_length=200, blank=True,
                                 help_text="the position mapped through the title dictionary (quality.titles)")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="contacts", db_index=False)  # contact_company_idx serves it
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    source = models.CharField(_("source"), max_length=64, blank=True)
    client_type = models.CharField(_("client type"), max_length=16, choices=ClientType.choices,
                                   default=ClientType.NEW)
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    opt_out = models.BooleanField(_("opted out of mailings"), default=False)
    consent_at = models.DateTimeField(_("personal data consent"), null=True, blank=True)
    custom = models.JSONField(default=dict, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True, db_index=True)
    # searched by substring: a trigram index on PostgreSQL (clients 0004); by its beginning (a deal file's
    # contact named by his full name, `filters.key_starts`) on the b-tree below
    search_key = models.CharField(max_length=500, editable=False)

    audited_fields = ("surname", "first_name", "patronymic", "position", "company", "birthday", "city",
                      "source", "client_type", "opt_out", "consent_at", "custom", "owner")

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [models.Index(fields=["owner", "-id"], name="contact_owner_idx"),
                   models.Index(fields=["company", "-id"], name="contact_company_idx"),
                   # equality only: db_index would add a pattern index that no query uses
                   models.Index(fields=["job_title"], name="contact_job_title_idx"),
                   # a search key's beginning (clients 0010 says why)
                   models.Index(fields=["search_key"], name="contact_search_start_idx",
                                opclasses=["varchar_pattern_ops"]),
                   binned_index("contact_binned_idx")]

    @property
    def full_name(self) -> str:
        return self.join_name(self.surname, self.first_name, self.patronymic)

    @staticmethod
    def join_name(surname: str, first_name: str, patronymic: str) -> str:
        return " ".join(p for p in (surname, first_name, patronymic) if p)

    def __str__(self) -> str:
        return self.full_name or f"#{self.pk}"


class ContactPhone(models.Model):
    class Kind(models.TextChoices):
        MOBILE = "mobile", _("mobile")
        WORK = "work", _("work")
        HOME = "home", _("home")
        OTHER = "other", _("other")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=20, help_text="E.164")
    extension = models.CharField(max_length=10, blank=True)
    raw = models.CharField(max_length=64, blank=True, help_text="as typed")
    valid = models.BooleanField(default=True, help_text="false: kept as typed, number holds only its digits")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.MOBILE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        # one b-tree for equality (Django's db_index would add a second, pattern one nothing uses); substring
        # search has the trigram index (clients 0004)
        indexes = [models.Index(fields=["number"], name="contactphone_number_idx")]


class ContactEmail(models.Model):
    class Kind(models.TextChoices):
        WORK = "work", _("work")
        PERSONAL = "personal", _("personal")
        OTHER = "other", _("other")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.CharField(max_length=254)
    email_key = models.CharField(max_length=254, editable=False, help_text="casefolded")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.WORK)
    bounced = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        # one b-tree for equality and prefixes (`info@…`, the cleanup rules), not db_index's two
        indexes = [models.Index(fields=["email_key"], name="contactemail_key_idx", opclasses=["varchar_pattern_ops"])]


class Lead(OwnedModel):
    """A request from any channel; owner empty means it waits in the common pool."""

    class Status(models.TextChoices):
        NEW = "new", _("new")
        IN_PROGRESS = "in_progress", _("in progress")
        QUALIFIED = "qualified", _("qualified")
        CONVERTED = "converted", _("converted")
        REJECTED = "rejected", _("rejected")

    class Source(models.TextChoices):
        SITE = "site", _("website")
        FORM = "form", _("web form")
        CALL = "call", _("phone call")
        EMAIL = "email", _("e-mail")
        MESSENGER = "messenger", _("messenger")
        SOCIAL = "social", _("social network")
        REFERRAL = "referral", _("referral")
        EXHIBITION = "exhibition", _("exhibition")
        IMPORT = "import", _("import")
        MANUAL = "manual", _("entered by hand")
        OTHER = "other", _("other")

    title = models.CharField(_("request"), max_length=300)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.MANUAL)
    surname = models.CharField(_("surname"), max_length=150, blank=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True)
    company_name = models.CharField(_("company"), max_length=300, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True, db_index=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    message = models.TextField(_("message"), blank=True)
    amount = models.DecimalField(_("expected amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    rejection_reason = models.CharField(_("rejection reason"), max_length=300, blank=True)
    custom = models.JSONField(default=dict, blank=True)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    deal_id = models.BigIntegerField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    search_key = models.CharField(max_length=500, editable=False, db_index=True)

    audited_fields = ("title", "status", "source", "surname", "first_name", "patronymic", "position",
                      "company_name", "inn", "phone", "email", "city", "message", "amount", "utm_source",
                      "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer",
                      "rejection_reason", "custom", "owner", "contact", "company", "deal_id")

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [models.Index(fields=["status", "-id"], name="lead_status_idx"),
                   models.Index(fields=["owner", "-id"], name="lead_owner_idx"), binned_index("lead_binned_idx")]

    def __str__(self) -> str:
        return self.title


class TimelineEvent(models.Model):
    """One touchpoint on a client's card. Written by the services that make the touchpoint, so the feed
    is one indexed read however many kinds of records feed it."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        CHANGED = "changed", _("fields changed")
        LEAD = "lead", _("request")
        LEAD_CONVERTED = "lead_converted", _("lead converted")
        DEAL = "deal", _("deal")
        STAGE = "stage", _("stage changed")
        TASK = "task", _("task")
        TASK_DONE = "task_done", _("task done")
        CALL = "call", _("call")
        MEETING = "meeting", _("meeting")
        NOTE = "note", _("note")
        MERGE = "merge", _("merged")

    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # the indexes below start with these columns, so the foreign keys need none of their own
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                db_index=False)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                db_index=False)
    deal_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # no database constraint on these two: see core.models.TrackedModel
    source_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+", db_index=False,
                                    db_constraint=False)
    source_id = models.BigIntegerField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", db_constraint=False)
    summary = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    hidden = models.BooleanField(default=False, help_text="the source record is in the recycle bin")

    class Meta:
        indexes = [
            models.Index(fields=["contact", "-at", "-id"], name="timeline_contact_idx"),
            models.Index(fields=["company", "-at", "-id"], name="timeline_company_idx"),
            models.Index(fields=["source_type", "source_id"], name="timeline_source_idx"),
        ]

    def __str__(self) -> str:
        return self.summary
