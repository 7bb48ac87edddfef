"""Read side of licences: a holder's own licences (我的证照)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from zwfw.core.errors import NotFound
from zwfw.identity.models import Company, User
from zwfw.licences.models import HolderKind, Licence


def licences_of(user: User) -> QuerySet[Licence]:
    """Licences held by ``user`` (by ID number) or by companies ``user`` represents legally."""
    holder = Q(pk__in=[])
    if user.id_number:
        index = Licence._meta.get_field("holder_id_index").index_of(user.id_number)
        holder |= Q(holder_kind=HolderKind.PERSON, holder_id_index=index)
    usccs = list(Company.objects.filter(legal_representative=user).values_list("uscc", flat=True))
    if usccs:
        indexes = [Licence._meta.get_field("holder_id_index").index_of(uscc) for uscc in usccs]
        holder |= Q(holder_kind=HolderKind.COMPANY, holder_id_index__in=indexes)
    return (
        Licence.objects.filter(holder)
        .select_related("licence_type", "issuer", "seal")
        .order_by("-issued_at", "-id")
    )


def my_licence(user: User, identifier: str) -> Licence:
    licence = licences_of(user).filter(identifier=identifier.strip().upper()).first()
    if licence is None:
        raise NotFound("licences.not_yours", "未找到您持有的该证照。", "No such licence of yours.")
    return licence


def issued_licence(identifier: str) -> Licence:
    """The licence with this identifier (any holder, any status), or ``NotFound``."""
    text = (identifier or "").strip().upper()[:120]
    licence = (
        Licence.objects.select_related("licence_type", "issuer").filter(identifier=text).first()
    )
    if licence is None:
        raise NotFound("licences.unknown", "证照不存在。", "Unknown licence.")
    return licence
