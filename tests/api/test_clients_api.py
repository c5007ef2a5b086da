"""The clients API: token auth, the access rules, and 4xx (never 500) on bad input."""

import json

import pytest
from django.test import Client

from caredesk.accounts.models import ApiToken
from caredesk.clients.models import Contact, Organisation, Site
from caredesk.lib import clock

pytestmark = pytest.mark.django_db

API = "/api/v1"


def post(client: Client, path: str, payload) -> object:
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(f"{API}/{path}", body, content_type="application/json")


def patch(client: Client, path: str, payload) -> object:
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.patch(f"{API}/{path}", body, content_type="application/json")


def assert_error(response, *statuses: int) -> object:
    assert response.status_code in statuses, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert "detail" in body
    return body["detail"]


@pytest.fixture
def staff_api(api_client_for, staff):
    return api_client_for(staff)


@pytest.fixture
def manager_api(api_client_for, manager_a):
    return api_client_for(manager_a)


# --- the document and authentication ---------------------------------------------------


def test_openapi_document_lists_the_paths():
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("organisations", "contacts", "sites"):
        assert f"{API}/{path}" in paths
        assert f"{API}/{path}/{{{path[:-1]}_id}}" in paths


@pytest.mark.parametrize("path", ["organisations", "contacts", "sites", "organisations/1"])
def test_missing_token_is_401_json(path):
    detail = assert_error(Client().get(f"{API}/{path}"), 401)
    assert "token" in detail.lower()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer nonsense",
        "Bearer cd123.abc",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "x" * 5000,
    ],
    ids=["garbage", "unknown-prefix", "empty", "basic", "huge"],
)
def test_invalid_token_is_401(header):
    response = Client(headers={"Authorization": header}).get(f"{API}/organisations")
    assert_error(response, 401)


def test_revoked_token_is_401(staff):
    token, secret = ApiToken.issue(staff, "test")
    token.revoked_at = clock.now()
    token.save()
    response = Client(headers={"Authorization": f"Bearer {secret}"}).get(f"{API}/organisations")
    assert_error(response, 401)


def test_token_of_deactivated_user_is_401(api_client_for, staff):
    client = api_client_for(staff)
    staff.is_active = False
    staff.save()
    assert_error(client.get(f"{API}/organisations"), 401)


def test_use_is_recorded_on_the_token(staff_api, staff):
    staff_api.get(f"{API}/organisations")
    assert ApiToken.objects.get(user=staff).last_used_at is not None


def test_session_login_alone_does_not_open_the_api(staff):
    client = Client()
    client.force_login(staff)
    assert_error(client.get(f"{API}/organisations"), 401)


# --- reading: staff sees all, clients their own ------------------------------------------


def test_staff_lists_every_organisation_paginated(staff_api, org_a, org_b):
    body = staff_api.get(f"{API}/organisations").json()
    assert body["count"] == 2
    assert [item["name"] for item in body["items"]] == ["Alpha Bakery", "Beta Dental"]
    assert body["items"][0]["email_domains"] == ["alpha.example"]


def test_staff_list_honours_limit_and_offset(staff_api, org_a, org_b):
    body = staff_api.get(f"{API}/organisations?limit=1&offset=1").json()
    assert body["count"] == 2
    assert [item["name"] for item in body["items"]] == ["Beta Dental"]


def test_manager_lists_only_its_organisation(manager_api, org_a, org_b):
    body = manager_api.get(f"{API}/organisations").json()
    assert body["count"] == 1
    assert [item["id"] for item in body["items"]] == [org_a.pk]


def test_manager_reads_its_organisation(manager_api, org_a):
    response = manager_api.get(f"{API}/organisations/{org_a.pk}")
    assert response.status_code == 200
    assert response.json()["name"] == "Alpha Bakery"


def test_manager_reading_other_organisation_gets_404(manager_api, org_b):
    assert_error(manager_api.get(f"{API}/organisations/{org_b.pk}"), 404)


def test_manager_reading_other_organisations_contact_gets_404(manager_api, contact_b):
    assert_error(manager_api.get(f"{API}/contacts/{contact_b.contact.pk}"), 404)


def test_manager_reading_other_organisations_site_gets_404(manager_api, site_b):
    assert_error(manager_api.get(f"{API}/sites/{site_b.pk}"), 404)


def test_forbidden_and_missing_look_the_same(manager_api, site_b):
    forbidden = manager_api.get(f"{API}/sites/{site_b.pk}")
    missing = manager_api.get(f"{API}/sites/999999")
    assert forbidden.status_code == missing.status_code == 404


def test_manager_filtering_by_other_organisation_gets_nothing(
    manager_api, org_b, contact_b, site_b
):
    for path in ("contacts", "sites"):
        body = manager_api.get(f"{API}/{path}?organisation_id={org_b.pk}").json()
        assert body == {"items": [], "count": 0}


def test_manager_lists_all_contacts_of_its_organisation(
    manager_api, manager_a, requester_a, contact_b
):
    body = manager_api.get(f"{API}/contacts").json()
    assert {item["email"] for item in body["items"]} == {manager_a.email, requester_a.email}


def test_requester_lists_only_itself_among_contacts(api_client_for, requester_a, manager_a):
    body = api_client_for(requester_a).get(f"{API}/contacts").json()
    assert body["count"] == 1
    assert body["items"][0]["email"] == requester_a.email
    assert body["items"][0]["roles"] == ["requester"]


def test_manager_lists_only_its_sites(manager_api, site_a, site_b):
    body = manager_api.get(f"{API}/sites").json()
    assert [item["id"] for item in body["items"]] == [site_a.pk]


def test_site_secret_is_never_in_the_api(staff_api, site_a):
    site_a.connection_secret = "app-password-do-not-leak"
    site_a.save()
    response = staff_api.get(f"{API}/sites/{site_a.pk}")
    assert response.status_code == 200
    assert b"app-password-do-not-leak" not in response.content
    assert "connection_secret" not in response.json()


# --- writing: staff only ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("post", "organisations", {"name": "Sneaky Ltd"}),
        ("patch", "organisations/{org}", {"name": "Renamed"}),
        ("post", "contacts", {"organisation_id": "{org}", "name": "X", "email": "x@alpha.example"}),
        ("patch", "contacts/{contact}", {"name": "Renamed"}),
        ("post", "sites", {"organisation_id": "{org}", "name": "X", "url": "https://x.example/"}),
        ("patch", "sites/{site}", {"name": "Renamed"}),
    ],
)
def test_client_writes_are_403(manager_api, manager_a, org_a, site_a, method, path, payload):
    refs = {"org": org_a.pk, "contact": manager_a.contact.pk, "site": site_a.pk}
    payload = {k: org_a.pk if v == "{org}" else v for k, v in payload.items()}
    send = post if method == "post" else patch
    assert_error(send(manager_api, path.format(**refs), payload), 403)
    org_a.refresh_from_db()
    site_a.refresh_from_db()
    assert org_a.name == "Alpha Bakery"
    assert site_a.name == "Alpha shop"
    assert Contact.objects.get(pk=refs["contact"]).name == "Mia Manager"
    assert not Organisation.objects.filter(name="Sneaky Ltd").exists()
    assert not Contact.objects.filter(email="x@alpha.example").exists()
    assert not Site.objects.filter(name="X").exists()


def test_client_patching_other_organisation_gets_404_not_403(manager_api, org_b):
    assert_error(patch(manager_api, f"organisations/{org_b.pk}", {"name": "Mine now"}), 404)


def test_staff_creates_an_organisation(staff_api, staff):
    response = post(
        staff_api,
        "organisations",
        {
            "name": "Gamma Garden Centre",
            "account_manager": "AGENT@agency.example",
            "email_domains": ["Gamma.Example", "@shop.gamma.example"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "gamma-garden-centre"
    assert body["account_manager"] == staff.email
    assert body["email_domains"] == ["gamma.example", "shop.gamma.example"]
    assert Organisation.objects.get(pk=body["id"]).account_manager == staff


def test_staff_creates_a_contact_with_roles(staff_api, org_a):
    response = post(
        staff_api,
        "contacts",
        {
            "organisation_id": org_a.pk,
            "name": "Nell Price",
            "email": "Nell@Alpha.example",
            "roles": ["manager", "billing"],
        },
    )
    assert response.status_code == 201, response.content
    contact = Contact.objects.get(pk=response.json()["id"])
    assert contact.email == "nell@alpha.example"
    assert contact.roles == ["requester", "manager", "billing"]


def test_staff_creates_a_site(staff_api, org_a):
    response = post(
        staff_api,
        "sites",
        {"organisation_id": org_a.pk, "name": "Blog", "url": "https://blog.alpha.example/"},
    )
    assert response.status_code == 201, response.content
    assert Site.objects.get(pk=response.json()["id"]).organisation == org_a


# --- bad input: 4xx with a detail, never 500 ---------------------------------------------


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("organisations", {"name": [1, 2, 3]}),
        ("organisations", {"name": ""}),
        ("organisations", {"name": "   "}),
        ("organisations", {"name": "x" * 201}),
        ("organisations", {}),
        ("organisations", {"name": "Ok", "account_manager": "not-an-email"}),
        ("organisations", {"name": "Ok", "email_domains": "not-a-list"}),
        ("organisations", {"name": "Ok", "is_active": "perhaps"}),
        ("organisations", [1, 2]),
        ("contacts", {"organisation_id": "abc", "name": "X", "email": "x@alpha.example"}),
        ("contacts", {"organisation_id": "{org}", "name": "X", "email": "not an email"}),
        (
            "contacts",
            {
                "organisation_id": "{org}",
                "name": "X",
                "email": "x@alpha.example",
                "roles": ["boss"],
            },
        ),
        ("contacts", {"organisation_id": 999999, "name": "X", "email": "x@alpha.example"}),
        ("sites", {"organisation_id": "{org}", "name": "X", "url": "not a url"}),
        ("sites", {"organisation_id": "{org}", "name": "X", "url": "ftp://alpha.example/"}),
        (
            "sites",
            {
                "organisation_id": "{org}",
                "name": "X",
                "url": "https://x.example/",
                "platform": "drupal",
            },
        ),
    ],
    ids=[
        "name-list",
        "name-empty",
        "name-blank",
        "name-too-long",
        "name-missing",
        "manager-not-email",
        "domains-not-list",
        "active-not-bool",
        "body-a-list",
        "organisation-id-text",
        "email-not-email",
        "unknown-role",
        "unknown-organisation",
        "url-not-url",
        "url-ftp",
        "unknown-platform",
    ],
)
def test_bad_payload_is_4xx_json(staff_api, org_a, path, payload):
    if isinstance(payload, dict):
        payload = {k: org_a.pk if v == "{org}" else v for k, v in payload.items()}
    assert_error(post(staff_api, path, payload), 400, 422)
    assert Organisation.objects.count() == 1
    assert not Contact.objects.exists()
    assert not Site.objects.exists()


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("organisations", {"name": "Nul\u0000Ltd"}),
        ("contacts", {"organisation_id": "{org}", "name": "Nul\u0000", "email": "n@a.example"}),
    ],
    ids=["organisation-name", "contact-name"],
)
def test_nul_character_in_a_string_is_4xx_not_500(staff_api, org_a, path, payload):
    payload = {k: org_a.pk if v == "{org}" else v for k, v in payload.items()}
    # SQLite stores the character; PostgreSQL cannot. Either way: no server error.
    assert post(staff_api, path, payload).status_code < 500


@pytest.mark.parametrize(
    "body",
    ["this is not json", "{", "", "null", '"a string"', b"\xff\xfe\x00"],
    ids=["text", "truncated", "empty", "null", "string", "binary"],
)
def test_body_that_is_not_a_json_object_is_4xx(staff_api, body):
    assert_error(post(staff_api, "organisations", body), 400, 422)
    assert not Organisation.objects.exists()


def test_unknown_account_manager_email_is_422(staff_api):
    response = post(staff_api, "organisations", {"name": "Ok", "account_manager": "who@x.example"})
    detail = assert_error(response, 422)
    assert "account_manager" in detail


def test_client_as_account_manager_is_422(staff_api, manager_a):
    response = post(staff_api, "organisations", {"name": "Ok", "account_manager": manager_a.email})
    assert_error(response, 422)


def test_duplicate_organisation_name_is_4xx(staff_api, org_a):
    assert_error(post(staff_api, "organisations", {"name": "Alpha Bakery"}), 409, 422)


def test_name_that_slugifies_like_another_is_still_created(staff_api, org_a):
    response = post(staff_api, "organisations", {"name": "Alpha-Bakery"})
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "alpha-bakery-2"


def test_duplicate_contact_email_is_409_or_422(staff_api, manager_a, org_b):
    payload = {"organisation_id": org_b.pk, "name": "Copy", "email": manager_a.email.upper()}
    assert_error(post(staff_api, "contacts", payload), 409, 422)
    assert Contact.objects.filter(email__iexact=manager_a.email).count() == 1


def test_duplicate_site_url_for_a_client_is_4xx(staff_api, site_a):
    payload = {"organisation_id": site_a.organisation_id, "name": "Copy", "url": site_a.url}
    assert_error(post(staff_api, "sites", payload), 409, 422)


def test_unknown_ids_are_404(staff_api):
    for path in ("organisations", "contacts", "sites"):
        assert_error(staff_api.get(f"{API}/{path}/424242"), 404)
        assert_error(patch(staff_api, f"{path}/424242", {"name": "X"}), 404)


@pytest.mark.parametrize("query", ["limit=abc", "limit=-1", "offset=-5", "organisation_id=x"])
def test_bad_query_parameters_are_4xx(staff_api, query):
    path = "contacts" if query.startswith("organisation_id") else "organisations"
    assert_error(staff_api.get(f"{API}/{path}?{query}"), 400, 422)


def test_non_numeric_id_in_path_is_not_a_server_error(staff_api):
    response = staff_api.get(f"{API}/organisations/abc")
    assert response.status_code == 404


# --- partial updates ----------------------------------------------------------------------


def test_patch_changes_only_the_given_fields(staff_api, org_a):
    org_a.phone = "01234 567890"
    org_a.save()
    response = patch(staff_api, f"organisations/{org_a.pk}", {"notes": "Pays on time"})
    assert response.status_code == 200, response.content
    org_a.refresh_from_db()
    assert org_a.notes == "Pays on time"
    assert org_a.phone == "01234 567890"
    assert org_a.name == "Alpha Bakery"


def test_patch_can_clear_the_account_manager(staff_api, org_a, staff):
    org_a.account_manager = staff
    org_a.save()
    response = patch(staff_api, f"organisations/{org_a.pk}", {"account_manager": None})
    assert response.status_code == 200, response.content
    org_a.refresh_from_db()
    assert org_a.account_manager is None


def test_patch_contact_roles(staff_api, requester_a):
    contact = requester_a.contact
    response = patch(staff_api, f"contacts/{contact.pk}", {"roles": ["report_recipient"]})
    assert response.status_code == 200, response.content
    assert response.json()["roles"] == ["requester", "report_recipient"]


def test_patch_moves_a_site_to_another_client(staff_api, site_a, org_b):
    response = patch(staff_api, f"sites/{site_a.pk}", {"organisation_id": org_b.pk})
    assert response.status_code == 200, response.content
    site_a.refresh_from_db()
    assert site_a.organisation == org_b


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("organisations/{org}", {"name": ""}),
        ("organisations/{org}", {"account_manager": "nobody@x.example"}),
        ("organisations/{org}", {"name": "Beta Dental"}),
        ("contacts/{contact}", {"email": "nope"}),
        ("contacts/{contact}", {"organisation_id": 999999}),
        ("contacts/{contact}", {"roles": ["owner"]}),
        ("sites/{site}", {"url": "javascript:alert(1)"}),
        ("sites/{site}", {"platform": "joomla"}),
    ],
)
def test_patch_validates_and_changes_nothing(
    staff_api, org_a, org_b, requester_a, site_a, path, payload
):
    refs = {"org": org_a.pk, "contact": requester_a.contact.pk, "site": site_a.pk}
    assert_error(patch(staff_api, path.format(**refs), payload), 409, 422)
    org_a.refresh_from_db()
    site_a.refresh_from_db()
    assert org_a.name == "Alpha Bakery"
    assert Contact.objects.get(pk=refs["contact"]).email == requester_a.email
    assert (site_a.url, site_a.platform) == ("https://alpha.example/", "wordpress")
