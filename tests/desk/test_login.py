"""Signing in to the desk, and what the home page and admin show each persona."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

pytestmark = pytest.mark.django_db


def sign_in(user, password) -> tuple[Client, object]:
    client = Client()
    response = client.post("/login/", {"username": user.email, "password": password}, follow=True)
    return client, response


def test_login_page_shows_the_form():
    response = Client().get("/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="username"' in page
    assert 'name="password"' in page
    assert "csrfmiddlewaretoken" in page


def test_wrong_password_shows_an_error_and_starts_no_session(staff):
    client = Client()
    response = client.post("/login/", {"username": staff.email, "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert SESSION_KEY not in client.session


def test_unknown_email_shows_the_same_error(staff):
    client = Client()
    wrong_password = client.post("/login/", {"username": staff.email, "password": "x"})
    unknown = client.post("/login/", {"username": "nobody@agency.example", "password": "x"})
    assert SESSION_KEY not in client.session
    assert wrong_password.context["form"].non_field_errors() == (
        unknown.context["form"].non_field_errors()
    )


def test_email_is_matched_whatever_its_case(staff, password):
    client = Client()
    client.post("/login/", {"username": "Agent@Agency.example", "password": password})
    assert client.session.get(SESSION_KEY) == str(staff.pk)


def test_deactivated_user_cannot_sign_in(staff, password):
    staff.is_active = False
    staff.save()
    client, _ = sign_in(staff, password)
    assert SESSION_KEY not in client.session


def test_staff_signs_in_to_the_dashboard_and_clients_lists_every_client(
    staff, password, org_a, org_b
):
    client, response = sign_in(staff, password)
    assert response.redirect_chain == [("/", 302)]
    assert response.templates[0].name == "desk/dashboard.html"
    assert "Configuration" in response.content.decode()
    page = client.get("/clients/").content.decode()
    assert "Alpha Bakery" in page
    assert "Beta Dental" in page


def test_home_counts_sites_and_contacts(staff, password, site_a, manager_a, requester_a):
    client = Client()
    client.force_login(staff)
    response = client.get("/clients/")
    [row] = [o for o in response.context["organisations"] if o.name == "Alpha Bakery"]
    assert (row.site_count, row.contact_count) == (1, 2)


def test_home_tells_an_account_manager_how_many_clients_are_theirs(staff, org_a, org_b):
    org_a.account_manager = staff
    org_a.save()
    client = Client()
    client.force_login(staff)
    assert "account manager for 1 client." in client.get("/clients/").content.decode()


def test_manager_signs_in_and_home_shows_only_its_organisation(manager_a, password, org_b):
    _, response = sign_in(manager_a, password)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Alpha Bakery" in page
    assert "Beta Dental" not in page
    assert "Your organisation" in page
    assert "/admin/" not in page


def test_inactive_client_is_not_listed(staff, org_a, org_b):
    org_b.is_active = False
    org_b.save()
    client = Client()
    client.force_login(staff)
    assert [o.name for o in client.get("/clients/").context["organisations"]] == ["Alpha Bakery"]


def test_anonymous_home_redirects_to_login():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_signed_in_user_visiting_login_goes_home(staff):
    client = Client()
    client.force_login(staff)
    response = client.get("/login/")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_logout_ends_the_session(staff):
    client = Client()
    client.force_login(staff)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert SESSION_KEY not in client.session


def test_admin_index_works_for_the_admin(admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert b"/admin/accounts/user/" in response.content


def test_agent_sees_clients_in_admin_but_not_users(staff, org_a):
    client = Client()
    client.force_login(staff)
    index = client.get("/admin/")
    assert index.status_code == 200
    assert b"/admin/clients/organisation/" in index.content
    assert b"/admin/accounts/user/" not in index.content
    assert client.get("/admin/clients/organisation/").status_code == 200
    assert client.get(f"/admin/clients/organisation/{org_a.pk}/change/").status_code == 200
    assert client.get("/admin/plans/plan/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 403
    assert client.get("/admin/accounts/apitoken/").status_code == 403


def test_client_contact_is_kept_out_of_admin(manager_a):
    client = Client()
    client.force_login(manager_a)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
