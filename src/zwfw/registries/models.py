"""Base registries (基础资源库): population and legal entities, their consumers and grants.

Personal fields are SM4-encrypted with a keyed SM3 blind index beside each one, so that 核验
and 比对 compare indexes and never decrypt. Values are stored in the canonical form of
:mod:`zwfw.registries.schema` (the index is computed over exactly what is stored).

Consumers and grants are registry-agnostic: ``Grant.registry`` names an entry of
``schema.REGISTRIES``, so a further registry (credit …) needs a model and a spec, no change here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from zwfw.core import codes
from zwfw.core.pii import BlindIndexField, EncryptedTextField


class PersonStatus(models.TextChoices):
    LIVING = "living", "在世"
    DECEASED = "deceased", "死亡"


class EntityStatus(models.TextChoices):
    ACTIVE = "active", "存续（在营、开业、在册）"
    REVOKED = "revoked", "吊销"
    CANCELLED = "cancelled", "注销"
    MOVED_OUT = "moved_out", "迁出"


class EntityType(models.TextChoices):
    """市场主体类型 (a simplified list of the registration categories)."""

    LIMITED_LIABILITY = "llc", "有限责任公司"
    JOINT_STOCK = "joint_stock", "股份有限公司"
    SOLE_PROPRIETORSHIP = "sole_proprietorship", "个人独资企业"
    PARTNERSHIP = "partnership", "合伙企业"
    INDIVIDUAL_BUSINESS = "individual_business", "个体工商户"
    COOPERATIVE = "cooperative", "农民专业合作社"
    BRANCH = "branch", "分公司"
    OTHER = "other", "其他"


class PersonRecord(models.Model):
    """One person of the population registry (人口库), keyed by 公民身份号码."""

    name = EncryptedTextField("姓名")
    name_index = BlindIndexField(source="name", purpose="registries.person.name")
    id_number = EncryptedTextField("公民身份号码")
    id_number_index = BlindIndexField(
        source="id_number", purpose="registries.person.id_number", unique=True
    )
    sex = models.CharField("性别", max_length=1, choices=codes.Sex.choices)
    ethnicity = models.CharField("民族", max_length=2, choices=codes.Ethnicity.choices, blank=True)
    birth_date = models.DateField("出生日期")
    household_division = models.CharField("户籍地行政区划", max_length=12)
    address = EncryptedTextField("户籍地址", blank=True)
    address_index = BlindIndexField(source="address", purpose="registries.person.address")
    phone = EncryptedTextField("手机号码", blank=True)
    phone_index = BlindIndexField(source="phone", purpose="registries.person.phone")
    social_security_card = EncryptedTextField("社会保障卡号", blank=True)
    social_security_card_index = BlindIndexField(
        source="social_security_card", purpose="registries.person.social_security_card"
    )
    bank_card = EncryptedTextField("银行卡号", blank=True)
    bank_card_index = BlindIndexField(source="bank_card", purpose="registries.person.bank_card")
    housing_fund_account = EncryptedTextField("住房公积金账号", blank=True)
    housing_fund_account_index = BlindIndexField(
        source="housing_fund_account", purpose="registries.person.housing_fund_account"
    )
    driving_licence_file = EncryptedTextField("驾驶证档案编号", blank=True)
    driving_licence_file_index = BlindIndexField(
        source="driving_licence_file", purpose="registries.person.driving_licence_file"
    )
    status = models.CharField(
        "状态", max_length=10, choices=PersonStatus.choices, default=PersonStatus.LIVING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "人口库记录"
        verbose_name_plural = "人口库"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"人口库记录 #{self.pk}"


class LegalEntityRecord(models.Model):
    """One legal entity of the legal-entity registry (法人库), keyed by 统一社会信用代码.

    The code, name, address and business scope are public registration information and stay
    in clear; the legal representative's identity is personal data.
    """

    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True)
    name = models.CharField("名称", max_length=200)
    entity_type = models.CharField("类型", max_length=24, choices=EntityType.choices)
    legal_rep_name = EncryptedTextField("法定代表人姓名")
    legal_rep_name_index = BlindIndexField(
        source="legal_rep_name", purpose="registries.legal_entity.legal_rep_name"
    )
    legal_rep_id_number = EncryptedTextField("法定代表人公民身份号码")
    legal_rep_id_number_index = BlindIndexField(
        source="legal_rep_id_number", purpose="registries.legal_entity.legal_rep_id_number"
    )
    address = models.CharField("住所", max_length=300, blank=True)
    registration_date = models.DateField("成立日期")
    business_scope = models.TextField("经营范围", blank=True)
    status = models.CharField(
        "登记状态", max_length=10, choices=EntityStatus.choices, default=EntityStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "法人库记录"
        verbose_name_plural = "法人库"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"


class Consumer(models.Model):
    """A registered user of the registries (共享使用方): a department system or the platform.

    A department system authenticates with an API key (stored as its SM3 hash) or, once the
    OIDC provider is in place, with a client-credentials token whose client id is ``client_id``.
    """

    class Kind(models.TextChoices):
        INTERNAL = "internal", "平台内部服务"
        CLIENT = "client", "部门业务系统（API密钥或OIDC客户端）"

    name = models.CharField("名称", max_length=100, unique=True)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices, default=Kind.CLIENT)
    department = models.ForeignKey(
        "organisations.Department",
        verbose_name="所属部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registry_consumers",
    )
    client_id = models.CharField(
        "OIDC客户端标识", max_length=100, unique=True, null=True, blank=True
    )
    api_key_hash = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "基础库使用方"
        verbose_name_plural = "基础库使用方"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_ref(self) -> str:
        """How the audit log names this consumer as an actor."""
        return f"registry_consumer:{self.pk}"


class Mode(models.TextChoices):
    QUERY = "query", "查询"
    VERIFY = "verify", "核验"
    COMPARE = "compare", "比对"


class Grant(models.Model):
    """A granted scope: this consumer may use this mode of this registry for these fields."""

    consumer = models.ForeignKey(Consumer, on_delete=models.CASCADE, related_name="grants")
    registry = models.CharField("基础库", max_length=32)
    mode = models.CharField("方式", max_length=8, choices=Mode.choices)
    fields = models.JSONField("字段", default=list)
    unmasked = models.BooleanField(
        "查询返回明文", default=False, help_text="only for 查询: return values unmasked"
    )
    valid_until = models.DateTimeField("有效期至", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "授权范围"
        verbose_name_plural = "授权范围"
        ordering = ["consumer_id", "registry", "mode", "id"]
        indexes = [
            models.Index(fields=["consumer", "registry", "mode"], name="registry_grant_scope")
        ]

    def __str__(self) -> str:
        return f"{self.consumer_id}:{self.registry}:{self.mode}:{','.join(self.fields)}"
