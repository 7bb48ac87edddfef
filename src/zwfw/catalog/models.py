"""Catalogue tables: basic items, implementation items, immutable versions, change requests.

An implementation item (``Item``) is the stable identity (its implementation code); what it
says lives in immutable ``ItemVersion`` rows, one per approved change. ``Item`` carries copies
of the current published version's classification columns so that lists, filters and facets
are plain indexed queries. Every change goes through a ``ChangeRequest`` with review steps.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from zwfw.core import codes
from zwfw.organisations.models import Department, Division


class BasicItem(models.Model):
    """基本目录事项: defined once (usually nationally or provincially)."""

    basic_code = models.CharField("基本编码", max_length=32, unique=True)
    name = models.CharField("事项名称", max_length=200)
    item_type = models.CharField("事项类型", max_length=2)
    level = models.CharField("行使层级", max_length=1, choices=codes.ExerciseLevel.choices)
    legal_bases = models.JSONField("设定依据", default=list, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="sub_items"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["basic_code"]

    def __str__(self) -> str:
        return f"{self.basic_code} {self.name}"


class ItemStatus(models.TextChoices):
    DRAFT = "draft", "未发布"
    PUBLISHED = "published", "已发布"
    SUSPENDED = "suspended", "已暂停"
    CANCELLED = "cancelled", "已取消"


class Item(models.Model):
    """实施清单事项: one body's implementation of a basic item in one division."""

    implementation_code = models.CharField("实施编码", max_length=64, unique=True)
    basic_item = models.ForeignKey(
        BasicItem, null=True, blank=True, on_delete=models.PROTECT, related_name="implementations"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="sub_items"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="items")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="items")
    status = models.CharField(
        max_length=10, choices=ItemStatus.choices, default=ItemStatus.DRAFT, db_index=True
    )
    current_version = models.ForeignKey(
        "ItemVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version_count = models.PositiveIntegerField(default=0)

    # Copies of the current version's content, for filters, facets and ordering.
    name = models.CharField("事项名称", max_length=200, db_index=True)
    basic_code = models.CharField("基本编码", max_length=32, blank=True, db_index=True)
    item_type = models.CharField("事项类型", max_length=2, db_index=True)
    level = models.CharField("行使层级", max_length=1)
    case_type = models.CharField("办件类型", max_length=1)
    online_depth = models.CharField("网上办理深度", max_length=3, db_index=True)
    targets = models.CharField("服务对象", max_length=20, help_text="codes joined by commas")
    person_themes = models.CharField(max_length=200, blank=True)
    legal_themes = models.CharField(max_length=200, blank=True)
    promised_days = models.PositiveIntegerField("承诺时限", default=0)
    charges_fee = models.BooleanField(default=False)
    site_visits = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "department"], name="item_status_dept_idx"),
            models.Index(fields=["status", "division"], name="item_status_div_idx"),
            models.Index(fields=["status", "item_type"], name="item_status_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.implementation_code} {self.name}"


class ItemFacet(models.Model):
    """One (facet, value) of a published item, for multi-valued filters and facet counts.

    Facets: ``target``, ``person_theme``, ``legal_theme``, ``channel``, ``life_event``. Rows are
    replaced when a new version is published.
    """

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="facets")
    facet = models.CharField(max_length=16)
    value = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "facet", "value"], name="item_facet_unique")
        ]
        indexes = [models.Index(fields=["facet", "value", "item"], name="item_facet_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.facet}={self.value}"


class ItemVersion(models.Model):
    """One immutable version of an item's content (the whole §3.2 element set as JSON)."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    content = models.JSONField()
    content_hash = models.CharField(max_length=64, help_text="SM3 of the canonical content")
    name = models.CharField(max_length=200)
    change_request = models.ForeignKey(
        "ChangeRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="versions"
    )
    created_by = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["item_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="item_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.item_id} v{self.number}"


class ChangeKind(models.TextChoices):
    ADD = "add", "新增"
    CHANGE = "change", "变更"
    SPLIT = "split", "拆分"
    MERGE = "merge", "合并"
    SUSPEND = "suspend", "暂停"
    CANCEL = "cancel", "取消"
    RESUME = "resume", "恢复"
    IMPORT = "import", "批量导入"


class ChangeStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    IN_REVIEW = "in_review", "审核中"
    APPROVED = "approved", "已通过"
    REJECTED = "rejected", "已退回"
    WITHDRAWN = "withdrawn", "已撤回"


class ChangeRequest(models.Model):
    """A proposed 新增/变更/拆分/合并/暂停/取消/恢复, reviewed step by step before it applies.

    ``proposals`` holds the proposed content of each resulting item (add, change, split,
    merge); ``sources`` are the existing items it acts on. ``review_steps`` is copied from the
    configuration when submitted, so a configuration change does not alter running reviews.
    """

    kind = models.CharField(max_length=8, choices=ChangeKind.choices)
    status = models.CharField(
        max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.DRAFT, db_index=True
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="catalog_changes"
    )
    sources = models.ManyToManyField(Item, blank=True, related_name="change_requests")
    proposals = models.JSONField(default=list, blank=True)
    reason = models.TextField("变更理由", blank=True)
    review_steps = models.JSONField(default=list, blank=True)
    current_step = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "department"], name="change_status_dept_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.get_status_display()}"


class ChangeReview(models.Model):
    """One reviewer's decision on one review step (编制审核, 法制审核, …)."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "同意"
        REJECT = "reject", "退回"

    change_request = models.ForeignKey(
        ChangeRequest, on_delete=models.CASCADE, related_name="reviews"
    )
    step = models.CharField(max_length=32)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=8, choices=Decision.choices)
    opinion = models.TextField(blank=True)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.change_request_id}:{self.step}:{self.decision}"


class ItemLineage(models.Model):
    """Which old items became which new ones (拆分 / 合并)."""

    predecessor = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="successor_links")
    successor = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="predecessor_links")
    kind = models.CharField(max_length=8, choices=ChangeKind.choices)
    change_request = models.ForeignKey(ChangeRequest, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["predecessor", "successor"], name="item_lineage_unique")
        ]

    def __str__(self) -> str:
        return f"{self.predecessor_id} → {self.successor_id} ({self.kind})"


class Synonym(models.Model):
    """Search synonyms, editable by staff: every term of a group finds the others."""

    group = models.CharField(max_length=64, db_index=True, help_text="e.g. 社保")
    term = models.CharField(max_length=64, unique=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group", "term"]

    def __str__(self) -> str:
        return f"{self.term} ∈ {self.group}"


class LifeEvent(models.Model):
    """人生事件 / 企业事件 for browsing (出生, 上学, 就业, 开办企业 …)."""

    class Audience(models.TextChoices):
        PERSON = "person", "个人"
        COMPANY = "company", "法人"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    audience = models.CharField(max_length=8, choices=Audience.choices)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["audience", "order", "code"]

    def __str__(self) -> str:
        return self.name


class ItemSearchDocument(models.Model):
    """The search-index entry of one published item (maintained by ``catalog.search``).

    Token columns hold pre-segmented text (character 1- and 2-grams, pinyin) separated by
    spaces; the database's full-text engine indexes them: an FTS5 table kept in step by
    triggers on SQLite, generated ``tsvector`` columns with GIN indexes on PostgreSQL (both
    created by migration ``0002_search_index``, which also keeps the columns a search reads
    per match narrow: a covering index on SQLite, out-of-line token storage on PostgreSQL).
    Filter, facet and ranking columns are copied from ``Item`` so that a search reads one
    table besides the index. Only published items have a document.
    """

    item = models.OneToOneField(
        Item, on_delete=models.CASCADE, primary_key=True, related_name="search_document"
    )
    name_key = models.CharField(max_length=200, help_text="normalised name (exact match)")
    name_length = models.PositiveSmallIntegerField(default=0)
    item_type = models.CharField(max_length=2)
    level = models.CharField(max_length=1)
    online_depth = models.CharField(max_length=3)
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    division_code = models.CharField(max_length=12)
    targets = models.CharField(max_length=40, blank=True, help_text="delimited: ,1,2,")
    person_themes = models.CharField(max_length=400, blank=True)
    legal_themes = models.CharField(max_length=400, blank=True)
    life_events = models.TextField(blank=True)
    name_tokens = models.TextField()
    keyword_tokens = models.TextField(blank=True)
    pinyin_tokens = models.TextField(blank=True)
    body_tokens = models.TextField(blank=True)
    body_text = models.TextField(blank=True, help_text="guide text for snippets")
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["name_key"], name="item_search_name_key_idx")]

    def __str__(self) -> str:
        return f"search:{self.item_id}"
