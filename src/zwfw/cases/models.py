"""Case handling (办件): processes, cases, their tasks, materials, history and notices.

A case (:class:`Case`) is one application for one published item version. Its handling path is
a BPMN process (:class:`ProcessDefinition`, stored once per version); the case keeps only the
compact workflow state. Open user tasks of the workflow are mirrored as :class:`CaseTask` rows
so that inboxes are plain indexed queries. Every step also writes a :class:`CaseEvent` — the
timeline people see and the GB/T 39046 办理 records the exchange reports.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from zwfw.catalog.models import Item, ItemVersion
from zwfw.core.pii import BlindIndexField, EncryptedTextField
from zwfw.identity.models import Company
from zwfw.organisations.models import Department


class ProcessDefinition(models.Model):
    """One version of a BPMN 2.0 process, parsed once and shared by every case that runs it."""

    key = models.CharField("流程标识", max_length=128)
    version = models.PositiveIntegerField()
    name = models.CharField("流程名称", max_length=200)
    bpmn_xml = models.TextField("BPMN 2.0 源文件")
    sha = models.CharField(max_length=64, help_text="SM3 of the BPMN file")
    process_id = models.CharField(max_length=128, help_text="the executable <process> id")
    # Text, not JSON: jsonb reorders keys and SpiffWorkflow's restore depends on their order.
    spec = models.TextField(help_text="SpiffWorkflow's serialised process spec (JSON text)")
    task_meta = models.JSONField(
        default=dict, help_text="per user/service task: kind, role, department, time limit"
    )
    has_accept_task = models.BooleanField(default=False)
    source = models.CharField("来源建模工具", max_length=64, blank=True)
    builtin = models.BooleanField(default=False)
    created_by = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="process_key_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"


class ItemProcess(models.Model):
    """Which process new cases of an item start with (set by ``zwfw import_process``)."""

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="process_binding")
    process = models.ForeignKey(ProcessDefinition, on_delete=models.PROTECT, related_name="+")
    bound_at = models.DateTimeField(auto_now=True)
    bound_by = models.CharField(max_length=128, blank=True)

    def __str__(self) -> str:
        return f"{self.item_id} → {self.process_id}"


class CaseSequence(models.Model):
    """The last 办件编号 sequence used per division and day (row-locked when incremented)."""

    division_code = models.CharField(max_length=12)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["division_code", "day"], name="case_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.division_code}/{self.day}: {self.last}"


class StoredFile(models.Model):
    """An uploaded file, content-addressed (SM3), owned by a person or a company.

    The owner's earlier files form the material library (材料库): a new case references the
    same row instead of a second upload.
    """

    class ScanStatus(models.TextChoices):
        PENDING = "pending", "待扫描"
        CLEAN = "clean", "安全"
        INFECTED = "infected", "含恶意代码"

    sha = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    media_type = models.CharField(max_length=100)
    original_name = models.CharField(max_length=200)
    storage_name = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stored_files"
    )
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, null=True, blank=True, related_name="stored_files"
    )
    material_name = models.CharField(max_length=200, blank=True)
    scan_status = models.CharField(
        max_length=8, choices=ScanStatus.choices, default=ScanStatus.PENDING
    )
    scan_detail = models.CharField(max_length=200, blank=True)
    copy_level = models.CharField(max_length=1, blank=True, help_text="A/B/C/D for scanned copies")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "company", "-id"], name="stored_file_owner_idx")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha[:8]})"


class CaseStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待受理"
    CORRECTION = "correction", "待补正"
    IN_PROGRESS = "in_progress", "办理中"
    SPECIAL = "special", "特别程序"
    SUSPENDED = "suspended", "挂起"
    CLOSED = "closed", "已办结"
    REFUSED = "refused", "不予受理"
    WITHDRAWN = "withdrawn", "已撤回"


OPEN_STATUSES = (
    CaseStatus.SUBMITTED,
    CaseStatus.CORRECTION,
    CaseStatus.IN_PROGRESS,
    CaseStatus.SPECIAL,
    CaseStatus.SUSPENDED,
)
FINAL_STATUSES = (CaseStatus.CLOSED, CaseStatus.REFUSED, CaseStatus.WITHDRAWN)


class Decision(models.TextChoices):
    APPROVE = "approve", "准予"
    REJECT = "reject", "不予"


class ApplicantKind(models.TextChoices):
    PERSON = "person", "自然人"
    COMPANY = "company", "法人"


class SubmitChannel(models.TextChoices):
    """申报来源 (GB/T 39046 A.4; codes are the standard's)."""

    WINDOW = "1", "窗口登记"
    ONLINE = "2", "网上申报"
    OTHER = "9", "其他"


class DeliveryMethod(models.TextChoices):
    WINDOW = "window", "窗口领取"
    POST = "post", "邮寄送达"
    ELECTRONIC = "electronic", "电子送达"


class Case(models.Model):
    """One application (办件) and its handling state."""

    number = models.CharField("办件编号", max_length=32, unique=True, null=True, blank=True)
    query_password_hash = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=12, choices=CaseStatus.choices, default=CaseStatus.DRAFT)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="cases")
    item_version = models.ForeignKey(ItemVersion, on_delete=models.PROTECT, related_name="+")
    item_name = models.CharField(max_length=200)
    implementation_code = models.CharField(max_length=64)
    case_type = models.CharField(max_length=1)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="cases")
    division_code = models.CharField(max_length=12)
    process = models.ForeignKey(
        ProcessDefinition, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # --- who applies --------------------------------------------------------------------------
    applicant_kind = models.CharField(max_length=8, choices=ApplicantKind.choices)
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases"
    )
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agent_cases",
        help_text="the person who applied for the company, or the clerk at the window",
    )
    applicant_name = models.CharField("申请者名称", max_length=200)
    applicant_id_type = models.CharField("申请者证件类型", max_length=3)
    applicant_id_number = EncryptedTextField("申请者证件号码")
    applicant_id_index = BlindIndexField(source="applicant_id_number")
    contact_name = models.CharField("联系人", max_length=64, blank=True)
    contact_phone = EncryptedTextField("联系人手机", blank=True)
    legal_representative = models.CharField("法定代表人", max_length=64, blank=True)
    postcode = models.CharField(max_length=6, blank=True)
    address = EncryptedTextField("通讯地址", blank=True)
    form_data = EncryptedTextField("申请表数据（JSON）", blank=True)
    channel = models.CharField(max_length=1, choices=SubmitChannel.choices)
    project_code = models.CharField("投资项目编号", max_length=64, blank=True)

    # --- lifecycle ----------------------------------------------------------------------------
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.CharField(max_length=64, blank=True)
    acceptance_notice_no = models.CharField(max_length=40, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=8, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=64, blank=True)
    result_description = models.TextField(blank=True)
    refusal_reason = models.TextField(blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    delivery_method = models.CharField(max_length=12, choices=DeliveryMethod.choices, blank=True)
    delivery_address = EncryptedTextField(blank=True)

    # --- the clock (see zwfw.cases.clock) -------------------------------------------------------
    limit_days = models.PositiveIntegerField(default=0)
    limit_unit = models.CharField(max_length=8, default="working")
    clock_start = models.DateField(null=True, blank=True, help_text="day the count starts from")
    paused_days = models.PositiveIntegerField(default=0)
    paused_since = models.DateField(null=True, blank=True)
    pause_reason = models.CharField(max_length=16, blank=True)
    due_date = models.DateField(null=True, blank=True, db_index=True)

    # --- the workflow ---------------------------------------------------------------------------
    # NULL (not "") until the process starts: "no workflow yet" is a state of its own.
    workflow_state = models.TextField(  # noqa: DJ001
        null=True, blank=True, help_text="SpiffWorkflow state without the spec (JSON text)"
    )
    lock_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["department", "status", "-id"], name="case_dept_status_idx"),
            models.Index(fields=["applicant_user", "-id"], name="case_applicant_idx"),
            models.Index(fields=["company", "-id"], name="case_company_idx"),
            models.Index(
                fields=["status", "due_date"],
                name="case_open_due_idx",
                condition=Q(status__in=[s.value for s in OPEN_STATUSES]),
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"draft #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class MaterialSourceKind(models.TextChoices):
    UPLOAD = "upload", "上传"
    REUSE = "reuse", "材料库复用"
    LICENCE = "licence", "电子证照"
    PAPER = "paper", "纸质收取"


class CaseMaterial(models.Model):
    """One entry of a case's materials: an upload, a reused file, a licence reference, paper."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "已提交"
        ACCEPTED = "accepted", "审核通过"
        NEEDS_CORRECTION = "correction", "需补正"
        SUPERSEDED = "superseded", "已替换"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    checklist_index = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="position in the item version's materials list"
    )
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=8, choices=MaterialSourceKind.choices)
    file = models.ForeignKey(
        StoredFile, on_delete=models.PROTECT, null=True, blank=True, related_name="uses"
    )
    licence_identifier = models.CharField(
        "证照标识", max_length=128, blank=True, help_text="1.2.156.3005.2… of a licence"
    )
    licence_type = models.CharField(max_length=32, blank=True)
    copies = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    note = models.CharField(max_length=500, blank=True)
    added_by = models.CharField(max_length=64, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["case", "checklist_index"], name="case_material_idx")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.name}"


class TaskKind(models.TextChoices):
    ACCEPT = "accept", "受理"
    REVIEW = "review", "审查"
    DECIDE = "decide", "决定"
    HANDLE = "handle", "即办"


class CaseTask(models.Model):
    """An open or finished user task of a case's workflow (the inbox row)."""

    class Status(models.TextChoices):
        OPEN = "open", "待办"
        DONE = "done", "已办"
        CANCELLED = "cancelled", "已取消"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    spiff_id = models.UUIDField(help_text="the SpiffWorkflow task id")
    bpmn_id = models.CharField(max_length=128)
    name = models.CharField("环节名称", max_length=200)
    kind = models.CharField(max_length=8, choices=TaskKind.choices)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="case_tasks")
    role = models.CharField(max_length=32)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claimed_tasks",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    due_date = models.DateField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.CharField(max_length=16, blank=True)
    opinion = models.TextField(blank=True)
    checklist = models.JSONField(default=list, blank=True, help_text="审查要点 ticked")

    class Meta:
        indexes = [
            # The inbox: open tasks per department and role, newest first (partial: a few
            # percent of all tasks are open).
            # The queue part reads unclaimed open tasks in id order: with the assignee in the
            # condition rather than the key, PostgreSQL reads the index in order (0.1 ms at a
            # million cases, against 1–2.5 ms walking the primary key).
            models.Index(
                fields=["department", "role", "-id"],
                name="case_task_open_queue_idx",
                condition=Q(status="open", assignee__isnull=True),
            ),
            models.Index(
                fields=["assignee", "-id"],
                name="case_task_open_mine_idx",
                condition=Q(status="open"),
            ),
            models.Index(fields=["case", "status"], name="case_task_case_idx"),
        ]
        constraints = [
            # A task sent back (退回) comes back with the same SpiffWorkflow id: only one
            # *open* row per workflow task.
            models.UniqueConstraint(
                fields=["case", "spiff_id"],
                condition=Q(status="open"),
                name="case_task_open_spiff_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.name} [{self.status}]"


class CaseEvent(models.Model):
    """One entry of a case's history (also the GB/T 39046 办理 records)."""

    class Action(models.TextChoices):
        """业务动作 (GB/T 39046: 1 通过, 2 退回, 9 其他)."""

        PASS = "1", "通过"
        RETURN = "2", "退回"
        OTHER = "9", "其他"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24)
    step_name = models.CharField("环节名称", max_length=200)
    action = models.CharField(max_length=1, choices=Action.choices, default=Action.OTHER)
    actor = models.CharField(max_length=64, blank=True)
    actor_name = models.CharField("处理人", max_length=64, blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opinion = models.TextField("意见", blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    task = models.ForeignKey(
        CaseTask, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["case", "id"], name="case_event_idx")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.kind}"


class SpecialProcedure(models.Model):
    """特别程序 (hearing, testing, expert review, extension …): the clock stops meanwhile."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="special_procedures")
    kind = models.CharField(max_length=2)
    reason = models.TextField()
    requested_by = models.CharField("申请人", max_length=64)
    approved_by = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField()
    expected_end = models.DateField()
    extension_days = models.PositiveSmallIntegerField(default=0)
    ended_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(blank=True)
    opinion = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.case_id}: {self.kind}"


class CorrectionRequest(models.Model):
    """补正告知 (一次性告知): everything missing or wrong, in one notice."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="corrections")
    items = models.JSONField(help_text="[{material, checklist_index, problem}]")
    note = models.TextField(blank=True)
    requested_by = models.CharField(max_length=64)
    requested_at = models.DateTimeField()
    during_acceptance = models.BooleanField(default=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.case_id}: {len(self.items)} items"


class Notice(models.Model):
    """An electronic document (电子文书) generated for a case."""

    class Kind(models.TextChoices):
        ACCEPTANCE = "acceptance", "受理通知书"
        REFUSAL = "refusal", "不予受理通知书"
        CORRECTION = "correction", "补正告知书"
        APPROVAL = "approval", "准予许可决定书"
        REJECTION = "rejection", "不予许可决定书"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    number = models.CharField("文书编号", max_length=48, unique=True)
    title = models.CharField(max_length=100)
    data = models.JSONField(default=dict, help_text="the facts the document states")
    file = models.ForeignKey(
        StoredFile, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    seal_signature = models.BinaryField(
        blank=True,
        default=b"",
        help_text="SES_Signature (GB/T 38540) of the issuing department's seal over the PDF",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["case", "kind"], name="notice_case_idx")]

    def __str__(self) -> str:
        return self.number
