"""Who sees which clients, contacts and sites: the one place the rule lives.

The cast: agency staff, the manager and a requester of client A, a contact of
client B, and an anonymous visitor.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from caredesk.clients import access
from caredesk.clients.models import Contact, Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org_a, org_b, manager_a, requester_a, contact_b, site_a, site_b):
    """Both clients fully populated, so every query has something to leak."""
    return {"org_a": org_a, "org_b": org_b, "site_a": site_a, "site_b": site_b}


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_staff_sees_every_organisation_contact_and_site(world, staff):
    assert ids(access.organisations_for(staff)) == {world["org_a"].pk, world["org_b"].pk}
    assert ids(access.contacts_for(staff)) == ids(Contact.objects.all())
    assert ids(access.sites_for(staff)) == {world["site_a"].pk, world["site_b"].pk}


def test_staff_sees_inactive_sites_too(world, staff):
    Site.objects.filter(pk=world["site_b"].pk).update(is_active=False)
    assert world["site_b"].pk in ids(access.sites_for(staff))


def test_manager_sees_only_its_organisation(world, manager_a):
    assert ids(access.organisations_for(manager_a)) == {world["org_a"].pk}


def test_manager_sees_all_contacts_of_its_organisation(world, manager_a, requester_a):
    assert ids(access.contacts_for(manager_a)) == {
        manager_a.contact.pk,
        requester_a.contact.pk,
    }


def test_manager_sees_only_active_sites_of_its_organisation(world, manager_a, org_a):
    hidden = Site.objects.create(
        organisation=org_a, name="Old shop", url="https://old.alpha.example/", is_active=False
    )
    visible = ids(access.sites_for(manager_a))
    assert visible == {world["site_a"].pk}
    assert hidden.pk not in visible


def test_requester_sees_its_organisation_but_only_itself_among_contacts(world, requester_a):
    assert ids(access.organisations_for(requester_a)) == {world["org_a"].pk}
    assert ids(access.contacts_for(requester_a)) == {requester_a.contact.pk}
    assert ids(access.sites_for(requester_a)) == {world["site_a"].pk}


def test_contact_of_other_client_never_sees_anything_of_a(world, contact_b, manager_a):
    assert world["org_a"].pk not in ids(access.organisations_for(contact_b))
    assert not access.contacts_for(contact_b).filter(organisation=world["org_a"]).exists()
    assert world["site_a"].pk not in ids(access.sites_for(contact_b))
    assert ids(access.organisations_for(contact_b)) == {world["org_b"].pk}


@pytest.mark.parametrize(
    ("helper", "target"),
    [
        (access.organisations_for, "org_a"),
        (access.sites_for, "site_a"),
    ],
)
def test_get_or_404_hides_other_clients_objects(world, contact_b, helper, target):
    with pytest.raises(Http404):
        access.get_or_404(helper(contact_b), world[target].pk)


def test_get_or_404_hides_other_clients_contacts(world, contact_b, manager_a):
    with pytest.raises(Http404):
        access.get_or_404(access.contacts_for(contact_b), manager_a.contact.pk)


def test_get_or_404_hides_a_colleague_from_a_requester(world, requester_a, manager_a):
    with pytest.raises(Http404):
        access.get_or_404(access.contacts_for(requester_a), manager_a.contact.pk)


def test_get_or_404_returns_a_visible_object(world, manager_a):
    assert access.get_or_404(access.sites_for(manager_a), world["site_a"].pk) == world["site_a"]


def test_get_or_404_missing_and_forbidden_look_the_same(world, contact_b):
    with pytest.raises(Http404) as missing:
        access.get_or_404(access.sites_for(contact_b), 999_999)
    with pytest.raises(Http404) as forbidden:
        access.get_or_404(access.sites_for(contact_b), world["site_a"].pk)
    assert type(missing.value) is type(forbidden.value)
    assert str(missing.value).replace("999999", "N") == str(forbidden.value).replace(
        str(world["site_a"].pk), "N"
    )


def assert_sees_nothing(user) -> None:
    assert not access.organisations_for(user).exists()
    assert not access.contacts_for(user).exists()
    assert not access.sites_for(user).exists()


def test_inactive_contact_sees_nothing(world, manager_a):
    Contact.objects.filter(user=manager_a).update(is_active=False)
    manager_a.refresh_from_db()
    assert_sees_nothing(manager_a)


def test_contact_of_inactive_organisation_sees_nothing(world, manager_a, org_a):
    org_a.is_active = False
    org_a.save()
    manager_a.refresh_from_db()
    assert_sees_nothing(manager_a)


def test_deactivated_login_sees_nothing(world, manager_a):
    manager_a.is_active = False
    manager_a.save()
    assert_sees_nothing(manager_a)


def test_client_login_without_contact_sees_nothing(world, manager_a):
    Contact.objects.filter(user=manager_a).update(user=None)
    manager_a.refresh_from_db()
    assert_sees_nothing(manager_a)


def test_anonymous_sees_nothing(world):
    anonymous = AnonymousUser()
    assert_sees_nothing(anonymous)
    assert not access.is_staff(anonymous)
    assert access.contact_of(anonymous) is None


def test_deactivated_staff_is_not_staff(world, staff):
    staff.is_active = False
    staff.save()
    assert not access.is_staff(staff)
    assert_sees_nothing(staff)


def test_is_staff_only_for_agency_roles(staff, admin_user, manager_a):
    assert access.is_staff(staff)
    assert access.is_staff(admin_user)
    assert not access.is_staff(manager_a)
