"""Organisations, contacts and sites keep their own data tidy."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from caredesk.clients.models import Contact, Organisation, Site

pytestmark = pytest.mark.django_db


def test_clean_normalises_email_domains():
    organisation = Organisation(
        name="Gamma", email_domains=" @Gamma.Example; shop.gamma.example ,,"
    )
    organisation.full_clean()
    assert organisation.email_domains == "gamma.example, shop.gamma.example"
    assert organisation.domains == ["gamma.example", "shop.gamma.example"]


def test_clean_rejects_a_client_as_account_manager(manager_a):
    organisation = Organisation(name="Gamma", account_manager=manager_a)
    with pytest.raises(ValidationError) as caught:
        organisation.full_clean()
    assert "account_manager" in caught.value.message_dict


def test_clean_accepts_staff_as_account_manager(staff):
    organisation = Organisation(name="Gamma", account_manager=staff)
    organisation.full_clean()
    organisation.save()
    assert list(staff.managed_organisations.all()) == [organisation]


def test_slug_is_made_from_the_name():
    organisation = Organisation.objects.create(name="Harbour Bakery Ltd")
    assert organisation.slug == "harbour-bakery-ltd"


def test_names_that_slugify_alike_get_distinct_slugs():
    first = Organisation.objects.create(name="Acme Ltd")
    second = Organisation.objects.create(name="Acme, Ltd.")
    third = Organisation.objects.create(name="ACME LTD!")
    assert [first.slug, second.slug, third.slug] == ["acme-ltd", "acme-ltd-2", "acme-ltd-3"]


def test_renaming_keeps_the_slug():
    organisation = Organisation.objects.create(name="Acme Ltd")
    organisation.name = "Acme Holdings"
    organisation.save()
    organisation.refresh_from_db()
    assert organisation.slug == "acme-ltd"


def test_contact_email_is_stored_lowercase(org_a):
    contact = Contact.objects.create(organisation=org_a, name="Jo", email=" Jo@Alpha.Example ")
    contact.refresh_from_db()
    assert contact.email == "jo@alpha.example"


def test_contact_email_is_unique_whatever_its_case(org_a, org_b):
    Contact.objects.create(organisation=org_a, name="Jo", email="jo@alpha.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(organisation=org_b, name="Jo again", email="JO@alpha.example")


def test_contact_email_uniqueness_is_enforced_by_the_database(org_a, org_b):
    # bulk_create skips save(), so only the database's Lower(email) constraint stops this.
    Contact.objects.bulk_create([Contact(organisation=org_a, name="Jo", email="jo@alpha.example")])
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.bulk_create(
            [Contact(organisation=org_b, name="Jo", email="Jo@Alpha.Example")]
        )


def test_contact_full_clean_reports_a_duplicate_email(org_a):
    Contact.objects.create(organisation=org_a, name="Jo", email="jo@alpha.example")
    with pytest.raises(ValidationError):
        Contact(organisation=org_a, name="Jo", email="JO@ALPHA.EXAMPLE").full_clean()


def test_set_roles_sets_the_flags(org_a):
    contact = Contact(organisation=org_a, name="Jo", email="jo@alpha.example")
    contact.set_roles(["manager", "billing"])
    assert (contact.is_manager, contact.is_report_recipient, contact.is_billing) == (
        True,
        False,
        True,
    )
    assert contact.roles == ["requester", "manager", "billing"]


def test_set_roles_rejects_an_unknown_role(org_a):
    contact = Contact(organisation=org_a, name="Jo", email="jo@alpha.example")
    with pytest.raises(ValueError, match=r"unknown role.*boss"):
        contact.set_roles(["manager", "boss"])
    assert not contact.is_manager


def test_site_url_must_be_http_or_https(org_a):
    site = Site(organisation=org_a, name="FTP", url="ftp://alpha.example/")
    with pytest.raises(ValidationError) as caught:
        site.full_clean()
    assert "url" in caught.value.message_dict


def test_site_url_is_unique_per_client(site_a, org_a, org_b):
    with pytest.raises(ValidationError):
        Site(organisation=org_a, name="Again", url=site_a.url).full_clean()
    Site(organisation=org_b, name="Shared host", url=site_a.url).full_clean()
