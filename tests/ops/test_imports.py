"""CSV import: the whole file is checked first; any bad row means nothing is written."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from caredesk.clients.models import Contact, Organisation, Site
from caredesk.ops.imports import import_csv
from caredesk.plans.models import Plan, Subscription, Term

pytestmark = pytest.mark.django_db


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def snapshot() -> dict[str, list[tuple]]:
    """Everything an import could touch, to prove it touched nothing."""
    return {
        "organisations": list(Organisation.objects.order_by("pk").values_list()),
        "contacts": list(Contact.objects.order_by("pk").values_list()),
        "sites": list(Site.objects.order_by("pk").values_list()),
        "subscriptions": list(Subscription.objects.order_by("pk").values_list()),
    }


@pytest.fixture
def plan(db):
    return Plan.objects.create(code="kijo-care", name="KIJO Care", monthly_fee=Decimal("95"))


ORGANISATIONS = csv_bytes(
    "name,email_domains,phone,account_manager,plan,plan_start,term,annual_discount_percent",
    "Gamma Garden Centre,Gamma.example; @shop.gamma.example,01234 567890,agent@agency.example,"
    "kijo-care,2026-01-01,annual,10",
    "Delta Joinery,delta.example,,,,,,",
)
CONTACTS = csv_bytes(
    "organisation,name,email,phone,roles",
    "alpha bakery,Jo Marsh,Jo@Alpha.example,01234,manager;report_recipient",
    "Beta Dental,Amir Fenwick,amir@beta.example,,",
)
SITES = csv_bytes(
    "organisation,name,url,platform,hosting_note",
    "Alpha Bakery,Alpha blog,https://blog.alpha.example/,wordpress,Krystal",
    "Beta Dental,Beta bookings,https://book.beta.example/,other,",
)


@pytest.fixture
def known_contacts(org_a, org_b):
    """The two contacts of CONTACTS, already in the database exactly as the file has them."""
    Contact.objects.create(
        organisation=org_a,
        name="Jo Marsh",
        email="jo@alpha.example",
        phone="01234",
        is_manager=True,
        is_report_recipient=True,
    )
    Contact.objects.create(organisation=org_b, name="Amir Fenwick", email="amir@beta.example")


@pytest.fixture
def known_sites(org_a, org_b):
    """The two sites of SITES, already in the database exactly as the file has them."""
    Site.objects.create(
        organisation=org_a,
        name="Alpha blog",
        url="https://blog.alpha.example/",
        hosting_note="Krystal",
    )
    Site.objects.create(
        organisation=org_b, name="Beta bookings", url="https://book.beta.example/", platform="other"
    )


# --- clean files ----------------------------------------------------------------------


def test_clean_organisations_file_imports_with_subscriptions(staff, plan):
    report = import_csv("organisations", ORGANISATIONS, dry_run=False)
    assert report.ok, report.errors
    assert (report.rows, report.created, report.updated, report.unchanged) == (2, 2, 0, 0)
    gamma = Organisation.objects.get(name="Gamma Garden Centre")
    assert gamma.domains == ["gamma.example", "shop.gamma.example"]
    assert gamma.account_manager == staff
    subscription = gamma.subscriptions.get()
    assert (subscription.plan, subscription.start_date, subscription.term) == (
        plan,
        date(2026, 1, 1),
        Term.ANNUAL,
    )
    assert subscription.monthly_fee == Decimal("85.50")
    assert not Organisation.objects.get(name="Delta Joinery").subscriptions.exists()


def test_clean_contacts_file_imports(org_a, org_b):
    report = import_csv("contacts", CONTACTS, dry_run=False)
    assert report.ok, report.errors
    assert report.created == 2
    jo = Contact.objects.get(email="jo@alpha.example")
    assert jo.organisation == org_a
    assert jo.roles == ["requester", "manager", "report_recipient"]
    assert Contact.objects.get(email="amir@beta.example").roles == ["requester"]


def test_clean_sites_file_imports(org_a, org_b):
    report = import_csv("sites", SITES, dry_run=False)
    assert report.ok, report.errors
    assert report.created == 2
    assert Site.objects.get(url="https://book.beta.example/").platform == "other"
    assert Site.objects.get(url="https://blog.alpha.example/").hosting_note == "Krystal"


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("organisations", ORGANISATIONS),
        ("contacts", CONTACTS),
        ("sites", SITES),
    ],
)
def test_reimporting_the_same_file_changes_nothing(staff, plan, org_a, org_b, kind, data):
    import_csv(kind, data, dry_run=False)
    before = snapshot()
    report = import_csv(kind, data, dry_run=False)
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert snapshot() == before


@pytest.mark.parametrize(("kind", "data"), [("contacts", CONTACTS), ("sites", SITES)])
def test_rows_matching_existing_records_are_unchanged(known_contacts, known_sites, kind, data):
    before = snapshot()
    report = import_csv(kind, data, dry_run=False)
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert snapshot() == before


def test_changed_row_counts_as_updated(known_contacts):
    changed = CONTACTS.replace(b"Amir Fenwick", b"Dr Amir Fenwick")
    report = import_csv("contacts", changed, dry_run=False)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert Contact.objects.get(email="amir@beta.example").name == "Dr Amir Fenwick"


def test_changed_subscription_terms_update_the_organisation(staff, plan):
    import_csv("organisations", ORGANISATIONS, dry_run=False)
    report = import_csv(
        "organisations", ORGANISATIONS.replace(b"annual,10", b"annual,15"), dry_run=False
    )
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert Subscription.objects.get().annual_discount_percent == Decimal("15")


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("organisations", ORGANISATIONS),
        ("contacts", CONTACTS),
        ("sites", SITES),
    ],
)
def test_dry_run_reports_but_writes_nothing(staff, plan, org_a, org_b, kind, data):
    before = snapshot()
    report = import_csv(kind, data, dry_run=True)
    assert report.ok, report.errors
    assert report.created == 2
    assert "would be created" in report.summary()
    assert snapshot() == before


def test_dry_run_of_changes_reports_updates_and_writes_nothing(known_contacts):
    before = snapshot()
    report = import_csv("contacts", CONTACTS.replace(b"01234", b"05678"), dry_run=True)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert "1 would be updated" in report.summary()
    assert snapshot() == before


def test_byte_order_mark_and_blank_lines_and_header_case_are_tolerated(db):
    data = "\ufeffName , PHONE\n\nZeta Zoo,0123\n\n".encode()
    report = import_csv("organisations", data, dry_run=False)
    assert report.ok, report.errors
    assert Organisation.objects.get(name="Zeta Zoo").phone == "0123"


# --- bad rows: every error, right line, nothing written -----------------------------------


def assert_nothing_written(before) -> None:
    assert snapshot() == before


def test_bad_contact_rows_are_reported_and_good_updates_are_not_applied(known_contacts):
    data = csv_bytes(
        "organisation,name,email,roles,active",  # line 1
        "Alpha Bakery,Jo Renamed,jo@alpha.example,manager,yes",  # 2: fine (an update)
        "Alpha Bakery,,nameless@alpha.example,,",  # 3: missing name
        "Nowhere Ltd,Pat,pat@nowhere.example,,",  # 4: unknown organisation
        "",  # 5: blank, skipped
        "Alpha Bakery,Boss,boss@alpha.example,boss,",  # 6: unknown role
        "Alpha Bakery,Jo Again,JO@alpha.example,,",  # 7: duplicate of line 2
        "Beta Dental,Amir,amir@beta.example,,sometimes",  # 8: bad flag
        "Beta Dental,Amir Renamed,,,",  # 9: missing email
    )
    before = snapshot()
    report = import_csv("contacts", data, dry_run=False)
    errors = dict(report.errors)
    assert sorted(errors) == [3, 4, 6, 7, 8, 9]
    assert "name is required" in errors[3]
    assert "Nowhere Ltd" in errors[4]
    assert "boss" in errors[6]
    assert errors[7] == "duplicate of line 2"
    assert "sometimes" in errors[8]
    assert "email is required" in errors[9]
    assert report.rows == 7
    assert_nothing_written(before)


def test_bad_contact_rows_are_all_reported_by_line_and_nothing_is_imported(org_a):
    data = csv_bytes(
        "organisation,name,email,roles",  # line 1
        "Alpha Bakery,Good Person,good@alpha.example,manager",  # 2: fine
        "Alpha Bakery,,nameless@alpha.example,",  # 3: missing name
        "Nowhere Ltd,Pat,pat@nowhere.example,",  # 4: unknown organisation
        "",  # 5: blank, skipped
        "Alpha Bakery,Bad Mail,not-an-email,",  # 6: bad email
        "Alpha Bakery,Boss,boss@alpha.example,boss",  # 7: unknown role
        "Alpha Bakery,Good Again,GOOD@alpha.example,",  # 8: duplicate of line 2
        "Alpha Bakery,Also Good,also@alpha.example,billing",  # 9: fine
    )
    before = snapshot()
    report = import_csv("contacts", data, dry_run=False)
    errors = dict(report.errors)
    assert sorted(errors) == [3, 4, 6, 7, 8]
    assert "name is required" in errors[3]
    assert "Nowhere Ltd" in errors[4]
    assert "email" in errors[6]
    assert "boss" in errors[7]
    assert errors[8] == "duplicate of line 2"
    assert report.rows == 7
    assert "nothing imported" in report.summary()
    assert_nothing_written(before)


def test_bad_site_rows_are_reported_and_good_updates_are_not_applied(known_sites):
    data = csv_bytes(
        "organisation,name,url,platform",
        "Alpha Bakery,Alpha blog renamed,https://blog.alpha.example/,wordpress",
        "Alpha Bakery,Drupal,https://drupal.alpha.example/,drupal",
        "Alpha Bakery,No URL,,wordpress",
        "Gamma,Unknown client,https://gamma.example/,wordpress",
        "alpha bakery,Again,https://blog.alpha.example/,wordpress",
    )
    before = snapshot()
    report = import_csv("sites", data, dry_run=False)
    errors = dict(report.errors)
    assert sorted(errors) == [3, 4, 5, 6]
    assert "platform" in errors[3]
    assert "url is required" in errors[4]
    assert "Gamma" in errors[5]
    assert errors[6] == "duplicate of line 2"
    assert_nothing_written(before)


def test_bad_site_rows_are_all_reported_and_nothing_is_imported(org_a):
    data = csv_bytes(
        "organisation,name,url,platform",
        "Alpha Bakery,Fine,https://fine.alpha.example/,wordpress",
        "Alpha Bakery,Not a URL,not a url,wordpress",
        "Alpha Bakery,FTP,ftp://alpha.example/,wordpress",
        "Alpha Bakery,Drupal,https://drupal.alpha.example/,drupal",
        "Alpha Bakery,No URL,,wordpress",
        "Beta Dental,Unknown client,https://beta.example/,wordpress",
    )
    before = snapshot()
    report = import_csv("sites", data, dry_run=False)
    errors = dict(report.errors)
    assert sorted(errors) == [3, 4, 5, 6, 7]
    assert "url" in errors[3].lower()
    assert "url" in errors[4].lower()
    assert "platform" in errors[5]
    assert "url is required" in errors[6]
    assert "Beta Dental" in errors[7]
    assert_nothing_written(before)


def test_bad_organisation_rows_are_all_reported_and_nothing_is_imported(staff, plan, manager_a):
    data = csv_bytes(
        "name,account_manager,plan,plan_start,term,annual_discount_percent,billing_day,active",
        "Fine Ltd,agent@agency.example,kijo-care,2026-01-01,monthly,,,yes",
        ",,,,,,,",  # blank row: skipped, not an error
        "No Plan Ltd,,gold,2026-01-01,monthly,,,",
        "Bad Date Ltd,,kijo-care,31/01/2026,monthly,,,",
        "No Start Ltd,,kijo-care,,monthly,,,",
        "Bad Term Ltd,,kijo-care,2026-01-01,weekly,,,",
        "Discount Ltd,,kijo-care,2026-01-01,monthly,10,,",
        "Late Day Ltd,,kijo-care,2026-01-01,monthly,,31,",
        "Odd Number Ltd,,kijo-care,2026-01-01,annual,ten,,",
        "Client Manager Ltd,mia@alpha.example,,,,,,",
        "Unknown Manager Ltd,nobody@agency.example,,,,,,",
        "Active Ltd,,,,,,,perhaps",
        "fine ltd,,,,,,,",
    )
    before = snapshot()
    report = import_csv("organisations", data, dry_run=False)
    errors = dict(report.errors)
    assert sorted(errors) == [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    assert "gold" in errors[4]
    assert "plan_start must be a date" in errors[5]
    assert "plan_start is required" in errors[6]
    assert "weekly" in errors[7]
    assert "annual_discount_percent" in errors[8]
    assert "billing_day" in errors[9]
    assert "must be numbers" in errors[10]
    assert "mia@alpha.example" in errors[11]
    assert "nobody@agency.example" in errors[12]
    assert "perhaps" in errors[13]
    assert errors[14] == "duplicate of line 2"
    assert_nothing_written(before)


def test_line_numbers_count_physical_lines_after_a_multiline_value(db):
    data = csv_bytes(
        "name,notes,active",
        'Fine Ltd,"first line',
        'second line",yes',
        "Broken Ltd,,perhaps",
    )
    report = import_csv("organisations", data, dry_run=True)
    assert [line for line, _ in report.errors] == [4]


def test_multiline_row_is_reported_at_the_line_it_starts(db):
    data = csv_bytes(
        "name,notes,active",
        'Broken Ltd,"first line',
        'second line",perhaps',
    )
    report = import_csv("organisations", data, dry_run=True)
    assert [line for line, _ in report.errors] == [2]


def test_new_names_that_slugify_alike_are_both_imported(db):
    data = csv_bytes("name", "Alpha & Co", "Alpha Co")
    report = import_csv("organisations", data, dry_run=False)
    assert report.ok, report.errors
    assert sorted(Organisation.objects.values_list("slug", flat=True)) == [
        "alpha-co",
        "alpha-co-2",
    ]


# --- bad files ------------------------------------------------------------------------


def test_non_utf8_file_is_a_clear_error(org_a):
    data = "organisation,name,email\nAlpha Bakery,Zoë,zoe@alpha.example\n".encode("latin-1")
    report = import_csv("contacts", data, dry_run=False)
    assert len(report.errors) == 1
    line, message = report.errors[0]
    assert line == 0
    assert "not UTF-8" in message
    assert not Contact.objects.exists()


def test_missing_required_column_is_an_error(org_a):
    report = import_csv("contacts", csv_bytes("organisation,name", "Alpha Bakery,Jo"), dry_run=True)
    assert report.errors == [(0, "missing column(s): email")]


def test_unknown_column_is_an_error_naming_it_and_the_known_ones(org_a):
    data = csv_bytes("organisation,name,email,colour", "Alpha Bakery,Jo,jo@alpha.example,red")
    report = import_csv("contacts", data, dry_run=True)
    [(line, message)] = report.errors
    assert line == 0
    assert "unknown column(s): colour" in message
    assert "roles" in message


def test_empty_file_is_an_error(db):
    report = import_csv("contacts", b"", dry_run=True)
    assert report.errors == [(0, "the file is empty")]


def test_row_with_more_values_than_columns_is_an_error(org_a):
    data = csv_bytes("organisation,name,email", "Alpha Bakery,Jo,jo@alpha.example,surprise")
    report = import_csv("contacts", data, dry_run=False)
    assert report.errors
    assert "line 2" in report.errors[0][1]
    assert not Contact.objects.exists()


def test_unknown_kind_is_refused(db):
    with pytest.raises(ValueError, match="unknown import 'plans'"):
        import_csv("plans", b"code\n", dry_run=True)


# --- the command ----------------------------------------------------------------------


CHANGED_CONTACTS = CONTACTS.replace(b"Amir Fenwick", b"Dr Amir Fenwick")


def test_command_dry_run_prints_the_summary_and_writes_nothing(tmp_path, known_contacts):
    path = tmp_path / "contacts.csv"
    path.write_bytes(CHANGED_CONTACTS)
    before = snapshot()
    out = StringIO()
    call_command("import", "contacts", str(path), "--dry-run", stdout=out)
    assert out.getvalue().strip() == (
        "Dry run: 2 row(s): 0 would be created, 1 would be updated, 1 unchanged"
    )
    assert snapshot() == before


def test_command_imports_a_clean_file(tmp_path, known_contacts):
    path = tmp_path / "contacts.csv"
    path.write_bytes(CHANGED_CONTACTS)
    out = StringIO()
    call_command("import", "contacts", str(path), stdout=out)
    assert out.getvalue().strip() == "2 row(s): 0 were created, 1 were updated, 1 unchanged"
    assert Contact.objects.get(email="amir@beta.example").name == "Dr Amir Fenwick"


def test_command_imports_organisations(tmp_path, staff, plan):
    path = tmp_path / "organisations.csv"
    path.write_bytes(ORGANISATIONS)
    out = StringIO()
    call_command("import", "organisations", str(path), stdout=out)
    assert "2 were created" in out.getvalue()
    assert Organisation.objects.count() == 2


def test_command_lists_errors_and_fails(tmp_path, org_a):
    path = tmp_path / "contacts.csv"
    path.write_bytes(csv_bytes("organisation,name,email", "Nowhere,Jo,jo@x.example"))
    err = StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("import", "contacts", str(path), "--dry-run", stderr=err)
    assert f"{path}:line 2: organisation 'Nowhere' does not exist" in err.getvalue()


def test_command_with_missing_file_fails_clearly(tmp_path, db):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import", "contacts", str(tmp_path / "absent.csv"))


# --- the admin view -------------------------------------------------------------------

IMPORT_URL = "/admin/import/contacts/"


def upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("contacts.csv", data, content_type="text/csv")


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def test_admin_import_page_shows_the_form(admin_client):
    response = admin_client.get(IMPORT_URL)
    assert response.status_code == 200
    assert b'type="file"' in response.content
    assert b"organisation, name, email" in response.content


def test_admin_import_of_bad_file_shows_every_error(admin_client, known_contacts):
    data = csv_bytes(
        "organisation,name,email,roles",
        "Alpha Bakery,Jo Renamed,jo@alpha.example,",
        "Nowhere,Pat,pat@x.example,",
        "Alpha Bakery,Boss,boss@alpha.example,boss",
    )
    before = snapshot()
    response = admin_client.post(IMPORT_URL, {"file": upload(data)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 error(s) in 3 row(s); nothing imported" in page
    assert "<td>3</td>" in page
    assert "&#x27;Nowhere&#x27; does not exist" in page
    assert "<td>4</td>" in page
    assert snapshot() == before


def test_admin_import_of_non_utf8_file_shows_the_error(admin_client, org_a):
    data = "organisation,name,email\nAlpha Bakery,Zoë,zoe@alpha.example\n".encode("cp1252")
    response = admin_client.post(IMPORT_URL, {"file": upload(data)})
    assert response.status_code == 200
    assert b"not UTF-8" in response.content


def test_admin_import_dry_run_imports_nothing(admin_client, known_contacts):
    before = snapshot()
    response = admin_client.post(IMPORT_URL, {"file": upload(CHANGED_CONTACTS), "dry_run": "on"})
    assert response.status_code == 200
    assert b"1 would be updated" in response.content
    assert snapshot() == before


def test_admin_import_of_clean_file_imports_and_redirects(admin_client, known_contacts):
    response = admin_client.post(IMPORT_URL, {"file": upload(CHANGED_CONTACTS)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/clients/contact/"
    assert Contact.objects.get(email="amir@beta.example").name == "Dr Amir Fenwick"


def test_admin_import_of_new_contacts_creates_them(admin_client, org_a, org_b):
    response = admin_client.post(IMPORT_URL, {"file": upload(CONTACTS)})
    assert response.status_code == 302
    assert Contact.objects.count() == 2


def test_agent_may_import_contacts(staff, known_contacts):
    client = Client()
    client.force_login(staff)
    response = client.post(IMPORT_URL, {"file": upload(CHANGED_CONTACTS)})
    assert response.status_code == 302
    assert Contact.objects.get(email="amir@beta.example").name == "Dr Amir Fenwick"


def test_unknown_import_kind_is_404(admin_client):
    assert admin_client.get("/admin/import/plans/").status_code == 404


@pytest.mark.parametrize("who", ["manager_a", None])
def test_client_or_anonymous_cannot_import(request, org_a, org_b, who):
    client = Client()
    if who:
        client.force_login(request.getfixturevalue(who))
    response = client.post(IMPORT_URL, {"file": upload(CONTACTS)})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert not Contact.objects.filter(email="amir@beta.example").exists()
