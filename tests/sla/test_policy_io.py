"""SLA policies as JSON: export, import (an upsert by code), presets and the `sla` command."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from caredesk.sla.models import BreachAction, BusinessCalendar, Priority, SlaPolicy, Target
from caredesk.sla.policy_io import (
    export_policy,
    format_duration,
    import_policy,
    load_preset,
    parse_duration,
    preset_names,
)
from caredesk.tickets.models import Ticket

Mutation = Callable[[dict], object]


def kijo_with(change: Mutation) -> dict:
    data = load_preset("kijo-care")
    change(data)
    return data


def ids_of(policy: SlaPolicy) -> dict:
    return {
        "priorities": dict(policy.priorities.values_list("code", "id")),
        "targets": {
            (t.priority.code, t.kind): t.id
            for t in Target.objects.filter(priority__policy=policy).select_related("priority")
        },
    }


def run(*args: str) -> str:
    out = StringIO()
    call_command("sla", *args, stdout=out)
    return out.getvalue()


# -- durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4h", timedelta(hours=4)),
        ("30m", timedelta(minutes=30)),
        ("45h", timedelta(hours=45)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("0h90m", timedelta(minutes=90)),
        (" 2h ", timedelta(hours=2)),
        (90, timedelta(minutes=90)),
    ],
)
def test_parse_duration_reads_hours_and_minutes(text, expected):
    assert parse_duration(text, "limit") == expected


@pytest.mark.parametrize(
    "text",
    ["4x", "", "h", "1d", "0h", "0m", "0h0m", "1h 30m", "30m1h", "-4h", 0, -5, 4.5, True, None],
)
def test_parse_duration_refuses_anything_else_naming_the_field(text):
    with pytest.raises(ValidationError) as caught:
        parse_duration(text, "kijo-care.priorities[1].first_response.limit")

    assert caught.value.messages[0].startswith("kijo-care.priorities[1].first_response.limit: ")


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(hours=4), "4h"),
        (timedelta(minutes=30), "30m"),
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(hours=45), "45h"),
        (timedelta(days=2), "48h"),
        (timedelta(0), "0m"),
        (timedelta(seconds=90), "1m"),  # whole minutes only
    ],
)
def test_format_duration_writes_hours_and_minutes(duration, text):
    assert format_duration(duration) == text


@pytest.mark.parametrize("minutes", [1, 59, 60, 61, 540, 2700, 5399])
def test_format_then_parse_is_the_identity_on_whole_minutes(minutes):
    duration = timedelta(minutes=minutes)

    assert parse_duration(format_duration(duration), "limit") == duration


# -- export and import -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", preset_names())
def test_export_gives_back_the_preset(name):
    preset = load_preset(name)

    exported = export_policy(import_policy(preset))

    assert exported["code"] == preset["code"]
    assert exported["calendar"] == preset["calendar"]
    assert exported["calendars"] == preset["calendars"]
    assert exported["warn_share"] == preset["warn_share"]
    assert exported["emergency_route"] == preset["emergency_route"]
    assert [p["code"] for p in exported["priorities"]] == [p["code"] for p in preset["priorities"]]
    for mine, theirs in zip(exported["priorities"], preset["priorities"], strict=True):
        assert mine["targets"] == theirs["targets"]
        assert mine["rank"] == theirs["rank"]
        assert mine["categories"] == theirs.get("categories", [])
        assert mine["critical"] == theirs.get("critical", False)
        assert mine["monitor"] == theirs.get("monitor", False)
        assert mine["default"] == theirs.get("default", False)


@pytest.mark.django_db
@pytest.mark.parametrize("name", preset_names())
def test_export_import_export_is_stable(name):
    exported = export_policy(import_policy(load_preset(name)))

    again = export_policy(import_policy(json.loads(json.dumps(exported))))

    assert again == exported


@pytest.mark.django_db
def test_exported_policy_imports_under_another_code_as_an_equal_copy():
    exported = export_policy(import_policy(load_preset("studio-support")))
    exported.update(code="studio-copy", name="Studio copy")

    copy = import_policy(exported)

    assert copy.pk != SlaPolicy.objects.get(code="studio-support").pk
    assert {**export_policy(copy), "code": "studio-support", "name": "Studio Support"} == {
        **exported,
        "code": "studio-support",
        "name": "Studio Support",
    }


@pytest.mark.django_db
def test_pause_statuses_round_trip_including_an_empty_list():
    data = kijo_with(
        lambda d: d["priorities"][1]["targets"]["resolution"].update(pause=["on_hold"])
    )
    data["priorities"][3]["targets"]["resolution"]["pause"] = []

    exported = export_policy(import_policy(data))

    assert exported["priorities"][1]["targets"]["resolution"]["pause"] == ["on_hold"]
    assert exported["priorities"][3]["targets"]["resolution"]["pause"] == []
    target = Target.objects.get(priority__code="non-critical", kind="resolution")
    assert target.effective_pause_statuses == frozenset()


@pytest.mark.django_db
def test_import_creates_calendars_priorities_and_targets():
    policy = import_policy(load_preset("studio-support"))

    assert policy.name == "Studio Support"
    assert policy.calendar.name == "Studio office hours"
    assert not policy.is_default
    critical = policy.priorities.get(code="mission-critical")
    first = critical.targets.get(kind="first_response")
    assert first.limit == timedelta(hours=1)
    assert first.calendar.name == "Around the clock"
    assert first.response_kinds == ["public_reply", "phone_call"]
    fix = policy.priorities.get(code="bug-fix").targets.get(kind="resolution")
    assert (fix.aim, fix.limit, fix.start_on) == (
        timedelta(hours=8),
        timedelta(hours=16),
        "first_response",
    )
    assert BusinessCalendar.objects.filter(name="Around the clock").count() == 1


@pytest.mark.django_db
def test_import_sets_the_default_flag_only_when_asked():
    policy = import_policy(load_preset("kijo-care"), is_default=True)
    assert policy.is_default

    import_policy(load_preset("kijo-care"))

    assert SlaPolicy.objects.get(code="kijo-care").is_default


@pytest.mark.django_db
def test_reimport_keeps_priority_and_target_rows():
    policy = import_policy(load_preset("kijo-care"))
    before = ids_of(policy)
    critical = policy.priorities.get(code="critical")
    ticket = Ticket.objects.create(
        subject="Form broken", channel="portal", sla_policy=policy, priority=critical
    )
    changed = kijo_with(
        lambda d: d["priorities"][1]["targets"]["first_response"].update(limit="3h")
    )

    again = import_policy(changed)

    assert again.pk == policy.pk
    assert ids_of(again) == before
    ticket.refresh_from_db()
    assert ticket.priority_id == critical.pk
    assert ticket.priority.targets.get(kind="first_response").limit == timedelta(hours=3)


@pytest.mark.django_db
def test_reimport_drops_targets_and_priorities_no_longer_listed():
    import_policy(load_preset("kijo-care"))

    def shrink(data: dict) -> None:
        data["priorities"].pop(2)  # backup restoration
        del data["priorities"][2]["targets"]["resolution"]  # non-critical

    policy = import_policy(kijo_with(shrink))

    assert list(policy.priorities.values_list("code", flat=True)) == [
        "downtime",
        "critical",
        "non-critical",
    ]
    kinds = policy.priorities.get(code="non-critical").targets.values_list("kind", flat=True)
    assert list(kinds) == ["first_response"]


@pytest.mark.django_db
def test_reimport_keeps_an_admin_set_breach_action():
    policy = import_policy(load_preset("kijo-care"))
    Target.objects.filter(priority__code="non-critical", kind="first_response").update(
        breach_action=BreachAction.RAISE_PRIORITY
    )

    import_policy(load_preset("kijo-care"))

    target = Target.objects.get(
        priority__policy=policy, priority__code="non-critical", kind="first_response"
    )
    assert target.breach_action == BreachAction.RAISE_PRIORITY


@pytest.mark.django_db
def test_breach_action_survives_export_and_import_under_another_code():
    import_policy(load_preset("kijo-care"))
    Target.objects.filter(priority__code="non-critical", kind="first_response").update(
        breach_action=BreachAction.RAISE_PRIORITY
    )
    exported = export_policy(SlaPolicy.objects.get(code="kijo-care"))
    exported["code"] = "kijo-copy"

    copy = import_policy(exported)

    target = copy.priorities.get(code="non-critical").targets.get(kind="first_response")
    assert target.breach_action == BreachAction.RAISE_PRIORITY


# -- bad data --------------------------------------------------------------------------------

BAD_DATA_NAMING_THE_PLACE = {
    "policy without a code": (lambda d: d.pop("code"), "policy: 'code' is missing"),
    "policy without a name": (lambda d: d.pop("name"), "kijo-care: 'name' is missing"),
    "policy without priorities": (lambda d: d.pop("priorities"), "'priorities' is missing"),
    "policy without calendars": (lambda d: d.pop("calendars"), "'calendars' is missing"),
    "calendars not a mapping": (lambda d: d.update(calendars=[]), "'calendars' must map"),
    "main calendar not listed": (
        lambda d: d.update(calendar="Head office"),
        "kijo-care: calendar 'Head office' is not in 'calendars'",
    ),
    "priority without a rank": (
        lambda d: d["priorities"][1].pop("rank"),
        "kijo-care.priorities[1]: 'rank' is missing",
    ),
    "priority without targets": (
        lambda d: d["priorities"][3].pop("targets"),
        "kijo-care.priorities[3]: 'targets' is missing",
    ),
    "target without a limit": (
        lambda d: d["priorities"][1]["targets"]["first_response"].pop("limit"),
        "kijo-care.priorities[1].first_response: 'limit' is missing",
    ),
    "unknown target kind": (
        lambda d: d["priorities"][1]["targets"].update(second_response={"limit": "4h"}),
        "kijo-care.priorities[1]: unknown target 'second_response'",
    ),
    "bad duration": (
        lambda d: d["priorities"][1]["targets"]["first_response"].update(limit="4x"),
        "kijo-care.priorities[1].first_response.limit: '4x' is not a duration",
    ),
    "bad aim duration": (
        lambda d: d["priorities"][2]["targets"]["first_response"].update(aim="1 day"),
        "kijo-care.priorities[2].first_response.aim: '1 day' is not a duration",
    ),
    "target calendar not listed": (
        lambda d: d["priorities"][0]["targets"]["first_response"].update(calendar="24/7"),
        "kijo-care.priorities[0].first_response: calendar '24/7' is not in 'calendars'",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(BAD_DATA_NAMING_THE_PLACE))
def test_bad_data_is_refused_with_a_message_naming_the_place(case):
    change, message = BAD_DATA_NAMING_THE_PLACE[case]

    with pytest.raises(ValidationError) as caught:
        import_policy(kijo_with(change))

    assert message in "; ".join(caught.value.messages)
    assert not SlaPolicy.objects.exists()
    assert not BusinessCalendar.objects.exists()


MODEL_RULES = {
    "aim longer than the limit": (
        lambda d: d["priorities"][2]["targets"]["first_response"].update(aim="20h"),
        "aim",
        "kijo-care.priorities[2].first_response",
    ),
    "unknown pause status": (
        lambda d: d["priorities"][1]["targets"]["resolution"].update(pause=["waiting"]),
        "pause_statuses",
        "kijo-care.priorities[1].resolution",
    ),
    "unknown start event": (
        lambda d: d["priorities"][1]["targets"]["resolution"].update(start_on="lunch"),
        "start_on",
        "kijo-care.priorities[1].resolution",
    ),
    "unknown response kind": (
        lambda d: d["priorities"][1]["targets"]["first_response"].update(responses=["fax"]),
        "response_kinds",
        "kijo-care.priorities[1].first_response",
    ),
    "rank not a number": (
        lambda d: d["priorities"][1].update(rank="first"),
        "rank",
        "kijo-care.priorities[1]",
    ),
    "categories not a list": (
        lambda d: d["priorities"][1].update(categories="contact-form"),
        "category_codes",
        "kijo-care.priorities[1]",
    ),
    "unknown time zone": (
        lambda d: d["calendars"]["KIJO office hours"].update(timezone="Mars/Olympus"),
        "spec",
        "KIJO office hours",
    ),
    "hours that end before they start": (
        lambda d: d["calendars"]["KIJO office hours"]["hours"].update(mon=[["17:00", "08:00"]]),
        "spec",
        "KIJO office hours",
    ),
    "warning share above one": (lambda d: d.update(warn_share=1.5), "warn_share", "kijo-care"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(MODEL_RULES))
def test_bad_data_breaking_a_model_rule_names_the_place_and_saves_nothing(case):
    change, field, place = MODEL_RULES[case]

    with pytest.raises(ValidationError) as caught:
        import_policy(kijo_with(change))

    message = "; ".join(caught.value.messages)
    assert place in message
    assert field in message
    assert not SlaPolicy.objects.exists()
    assert not Priority.objects.exists()


@pytest.mark.django_db
def test_failed_reimport_leaves_the_policy_as_it_was():
    import_policy(load_preset("kijo-care"))

    def break_it(data: dict) -> None:
        data["name"] = "Renamed"
        data["priorities"][1]["targets"]["first_response"]["limit"] = "3h"
        data["priorities"][3]["targets"]["first_response"]["limit"] = "4x"

    with pytest.raises(ValidationError):
        import_policy(kijo_with(break_it))

    policy = SlaPolicy.objects.get(code="kijo-care")
    assert policy.name == "KIJO Care"
    critical = policy.priorities.get(code="critical").targets.get(kind="first_response")
    assert critical.limit == timedelta(hours=4)


@pytest.mark.django_db
def test_import_refuses_something_that_is_not_an_object():
    with pytest.raises(ValidationError, match="a policy is a JSON object"):
        import_policy([load_preset("kijo-care")])


@pytest.mark.django_db
def test_unknown_preset_is_refused_listing_the_presets():
    with pytest.raises(ValidationError) as caught:
        load_preset("kijo")

    assert "kijo-care, studio-support, support-levels" in caught.value.messages[0]


# -- the command -----------------------------------------------------------------------------


def test_sla_presets_lists_the_shipped_presets():
    assert run("presets").split() == ["kijo-care", "studio-support", "support-levels"]


@pytest.mark.django_db
def test_sla_preset_installs_a_preset():
    output = run("preset", "kijo-care")

    assert "Policy kijo-care (KIJO Care) saved." in output
    assert SlaPolicy.objects.get(code="kijo-care").priorities.count() == 4


@pytest.mark.django_db
def test_sla_export_prints_the_policy_as_json():
    policy = import_policy(load_preset("support-levels"))

    assert json.loads(run("export", "support-levels")) == export_policy(policy)


@pytest.mark.django_db
def test_sla_import_reads_a_file(tmp_path):
    path = tmp_path / "studio.json"
    path.write_text(json.dumps(load_preset("studio-support")), encoding="utf-8")

    output = run("import", str(path))

    assert "Policy studio-support (Studio Support) saved." in output
    assert SlaPolicy.objects.filter(code="studio-support").exists()


@pytest.mark.django_db
def test_sla_export_then_import_round_trips_through_a_file(tmp_path):
    run("preset", "kijo-care")
    path = tmp_path / "kijo.json"
    path.write_text(run("export", "kijo-care"), encoding="utf-8")
    before = ids_of(SlaPolicy.objects.get(code="kijo-care"))

    run("import", str(path))

    assert ids_of(SlaPolicy.objects.get(code="kijo-care")) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("preset", "kijo"), "no preset 'kijo'"),
        (("export", "nobody"), "no policy with code 'nobody'"),
        (("import", "{missing}"), "cannot read"),
        (("import", "{not_json}"), "not JSON"),
        (("import", "{bad_duration}"), "'4x' is not a duration"),
        (("import", "{a_list}"), "a policy is a JSON object"),
        (("import", "{aim_too_long}"), "The aim must be positive and no longer than the limit."),
    ],
)
def test_sla_command_turns_bad_input_into_a_command_error(tmp_path, args, message):
    files = {
        "missing": tmp_path / "missing.json",
        "not_json": tmp_path / "not.json",
        "bad_duration": tmp_path / "bad.json",
        "a_list": tmp_path / "list.json",
        "aim_too_long": tmp_path / "aim.json",
    }
    files["not_json"].write_text("{'code': 'kijo-care'", encoding="utf-8")
    files["bad_duration"].write_text(
        json.dumps(
            kijo_with(lambda d: d["priorities"][0]["targets"]["first_response"].update(limit="4x"))
        ),
        encoding="utf-8",
    )
    files["a_list"].write_text("[]", encoding="utf-8")
    files["aim_too_long"].write_text(
        json.dumps(
            kijo_with(lambda d: d["priorities"][2]["targets"]["first_response"].update(aim="20h"))
        ),
        encoding="utf-8",
    )
    args = tuple(a.format(**{k: str(v) for k, v in files.items()}) for a in args)

    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        run(*args)


def _in_use_priority_dropped(data: dict) -> None:
    data["priorities"].pop(0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            lambda d: d["priorities"][1].update(
                targets=[{"kind": "first_response", "limit": "4h"}]
            ),
            "kijo-care.priorities[1]: 'targets' must map",
            id="targets-as-a-list",
        ),
        pytest.param(
            lambda d: d["priorities"][1]["targets"].update(first_response=4),
            "kijo-care.priorities[1].first_response: a target is an object",
            id="target-as-a-number",
        ),
        pytest.param(
            lambda d: d["priorities"].append(5),
            "kijo-care.priorities[4]: a priority is an object",
            id="priority-as-a-number",
        ),
        pytest.param(
            lambda d: d.update(priorities={"critical": {}}),
            "kijo-care: 'priorities' must be a list",
            id="priorities-as-a-mapping",
        ),
        pytest.param(
            _in_use_priority_dropped,
            "cannot be removed",
            id="dropping-a-priority-tickets-use",
        ),
    ],
)
def test_sla_import_of_a_malformed_file_is_a_command_error_not_a_traceback(
    tmp_path, change, message
):
    policy = import_policy(load_preset("kijo-care"))
    Ticket.objects.create(
        subject="Down", channel="monitor", sla_policy=policy, priority=policy.priorities.first()
    )
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(kijo_with(change)), encoding="utf-8")

    with pytest.raises(CommandError) as caught:
        run("import", str(path))

    assert message in str(caught.value)
    assert Priority.objects.filter(policy=policy).count() == 4


@pytest.mark.django_db
def test_a_null_description_imports_as_empty():
    data = load_preset("kijo-care")
    data["description"] = None
    data["priorities"][1]["description"] = None

    policy = import_policy(data)

    assert policy.description == ""
    assert policy.priorities.get(code=data["priorities"][1]["code"]).description == ""
