from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import EmailStr, HttpUrl, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Role = Literal["requester", "manager", "report_recipient", "billing"]


class ErrorOut(Schema):
    detail: str | list | dict


class OrganisationOut(Schema):
    id: int
    name: str
    slug: str
    account_manager: str | None = Field(None, description="Email of the account manager")
    email_domains: list[str]
    phone: str
    notes: str
    is_active: bool

    @staticmethod
    def resolve_account_manager(obj) -> str | None:
        return obj.account_manager.email if obj.account_manager_id else None

    @staticmethod
    def resolve_email_domains(obj) -> list[str]:
        return obj.domains


class OrganisationIn(Schema):
    name: Name
    account_manager: EmailStr | None = None
    email_domains: list[Annotated[str, StringConstraints(max_length=253)]] = []
    phone: Annotated[str, StringConstraints(max_length=50)] = ""
    notes: Annotated[str, StringConstraints(max_length=10_000)] = ""
    is_active: bool = True


class OrganisationPatch(Schema):
    name: Name | None = None
    account_manager: EmailStr | None = None
    email_domains: list[Annotated[str, StringConstraints(max_length=253)]] | None = None
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None
    notes: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    is_active: bool | None = None


class ContactOut(Schema):
    id: int
    organisation_id: int
    name: str
    email: str
    phone: str
    roles: list[str]
    is_active: bool


class ContactIn(Schema):
    organisation_id: int
    name: Name
    email: EmailStr
    phone: Annotated[str, StringConstraints(max_length=50)] = ""
    roles: list[Role] = ["requester"]
    is_active: bool = True


class ContactPatch(Schema):
    organisation_id: int | None = None
    name: Name | None = None
    email: EmailStr | None = None
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None
    roles: list[Role] | None = None
    is_active: bool | None = None


class SiteOut(Schema):
    id: int
    organisation_id: int
    name: str
    url: str
    platform: str
    hosting_note: str
    connection: str
    is_active: bool


class SiteIn(Schema):
    organisation_id: int
    name: Name
    url: HttpUrl
    platform: Literal["wordpress", "other"] = "wordpress"
    hosting_note: Annotated[str, StringConstraints(max_length=300)] = ""
    notes: Annotated[str, StringConstraints(max_length=10_000)] = ""
    is_active: bool = True


class SitePatch(Schema):
    organisation_id: int | None = None
    name: Name | None = None
    url: HttpUrl | None = None
    platform: Literal["wordpress", "other"] | None = None
    hosting_note: Annotated[str, StringConstraints(max_length=300)] | None = None
    notes: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    is_active: bool | None = None
