"""The columns of a customer file, as the export writes them and the import reads them: the
export's header is in the user's language, and the import knows each column by its key or by
its title in either language (and by the names Chinese spreadsheets commonly use)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _


@dataclass(frozen=True)
class Column:
    key: str
    #: what else a header may call it (lower case), besides the key and its title in zh-CN and en
    aliases: tuple[str, ...]
    required: bool = False

    @property
    def title(self) -> str:
        return {
            "code": _("Code"),
            "name": _("Name"),
            "tier": _("Tier"),
            "status": _("Status"),
            "person": _("Contact person"),
            "phone": _("Phone"),
            "email": _("E-mail"),
            "address": _("Address"),
        }[self.key]


COLUMNS = (
    Column("code", ("客户编码", "客户代码", "编码", "代码", "编号", "customer code"), required=True),
    Column("name", ("客户名称", "名称", "客户名", "customer name"), required=True),
    Column("tier", ("等级", "客户等级", "级别"), required=True),
    Column("status", ("状态", "客户状态")),
    Column("person", ("联系人", "contact", "contact person")),
    Column("phone", ("电话", "联系电话", "手机", "手机号", "telephone", "mobile")),
    Column("email", ("邮箱", "电子邮件", "电子邮箱", "e-mail", "mail")),
    Column("address", ("地址", "联系地址", "通讯地址")),
)
CONTACT_KEYS = ("person", "phone", "email", "address")
