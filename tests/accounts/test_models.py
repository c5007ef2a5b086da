"""Users: the role decides staff and admin rights, and what the admin site lets them touch."""

import pytest

from caredesk.accounts.models import Role, User

pytestmark = pytest.mark.django_db


def make(role: str, email: str = "person@example.com") -> User:
    return User.objects.create_user(email, "pw-not-checked-here", role=role)


@pytest.mark.parametrize(
    ("role", "is_staff", "is_superuser"),
    [
        (Role.ADMIN, True, True),
        (Role.AGENT, True, False),
        (Role.ACCOUNT_MANAGER, True, False),
        (Role.CLIENT, False, False),
    ],
)
def test_role_drives_staff_and_superuser_flags(role, is_staff, is_superuser):
    user = make(role)
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser) == (is_staff, is_superuser)


def test_changing_role_updates_the_flags_on_save():
    user = make(Role.ADMIN)
    user.role = Role.CLIENT
    user.save()
    user.refresh_from_db()
    assert not user.is_staff
    assert not user.is_superuser


def test_superuser_flag_cannot_be_set_by_hand():
    user = make(Role.AGENT)
    user.is_superuser = True
    user.save()
    user.refresh_from_db()
    assert not user.is_superuser


def test_email_is_lowercased_on_create_and_save():
    user = User.objects.create_user("Jo.Marsh@Example.COM", "pw")
    assert user.email == "jo.marsh@example.com"
    user.email = "  NEW@Example.com "
    user.save()
    user.refresh_from_db()
    assert user.email == "new@example.com"


def test_create_user_without_email_is_refused():
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user("", "pw")


def test_create_superuser_is_an_admin():
    user = User.objects.create_superuser("boss@agency.example", "pw")
    assert user.role == Role.ADMIN
    assert user.is_superuser


def test_password_is_hashed():
    user = User.objects.create_user("jo@example.com", "s3cret-phrase")
    assert user.password != "s3cret-phrase"
    assert user.check_password("s3cret-phrase")


@pytest.mark.parametrize(
    "perm", ["clients.add_organisation", "clients.change_site", "plans.change_plan"]
)
def test_agent_may_edit_clients_and_plans(staff, perm):
    assert staff.has_perm(perm)


def test_agent_sees_clients_and_plans_apps_but_not_accounts(staff):
    assert staff.has_module_perms("clients")
    assert staff.has_module_perms("plans")
    assert not staff.has_module_perms("accounts")


@pytest.mark.parametrize(
    "perm", ["accounts.view_user", "accounts.change_user", "accounts.add_apitoken"]
)
def test_agent_has_no_permission_on_accounts(staff, perm):
    assert not staff.has_perm(perm)


def test_admin_has_every_permission(admin_user):
    assert admin_user.has_perm("accounts.change_user")
    assert admin_user.has_module_perms("accounts")


@pytest.mark.parametrize(
    "perm", ["clients.view_organisation", "plans.view_plan", "accounts.view_user"]
)
def test_client_contact_has_no_admin_permission(manager_a, perm):
    assert not manager_a.has_perm(perm)
    assert not manager_a.has_module_perms(perm.split(".")[0])


def test_deactivated_agent_loses_staff_permissions(staff):
    staff.is_active = False
    staff.save()
    assert not staff.is_agency_staff
    assert not staff.has_perm("clients.view_organisation")
