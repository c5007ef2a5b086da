"""SLA policies as JSON: export, import (an upsert by code), and the shipped presets.

Durations are written as business time: ``"4h"``, ``"30m"``, ``"45h"`` or
``"1h30m"`` — hours, not days, because a "business day" is as long as the
calendar's day (9 h for 08:00–17:00, 8 h for 09:00–17:00).
"""

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from .clocks import Kind
from .models import BreachAction, BusinessCalendar, Priority, SlaPolicy, Target

PRESETS_DIR = Path(__file__).resolve().parent / "presets"
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?$")


def parse_duration(value: object, field: str) -> timedelta:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return timedelta(minutes=value)
    match = _DURATION.match(str(value).strip()) if isinstance(value, str) else None
    if not match or not any(match.groups()):
        raise ValidationError(f"{field}: {value!r} is not a duration like '4h', '90m' or '1h30m'")
    hours, minutes = (int(g or 0) for g in match.groups())
    if hours == minutes == 0:
        raise ValidationError(f"{field}: a duration must be positive")
    return timedelta(hours=hours, minutes=minutes)


def format_duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") or "0m"


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.json"))


def load_preset(name: str) -> dict[str, Any]:
    if name not in preset_names():
        raise ValidationError(f"no preset {name!r}; presets: {', '.join(preset_names())}")
    return json.loads((PRESETS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def export_policy(policy: SlaPolicy) -> dict[str, Any]:
    calendars: dict[str, Any] = {policy.calendar.name: policy.calendar.spec}
    priorities = []
    for priority in policy.priorities.prefetch_related("targets__calendar", "targets__reassign_to"):
        targets = {}
        for target in priority.targets.all():
            item: dict[str, Any] = {"limit": format_duration(target.limit)}
            if target.aim:
                item["aim"] = format_duration(target.aim)
            if target.calendar:
                calendars[target.calendar.name] = target.calendar.spec
                item["calendar"] = target.calendar.name
            if target.pause_statuses is not None:
                item["pause"] = target.pause_statuses
            if target.start_on != "created":
                item["start_on"] = target.start_on
            if target.response_kinds:
                item["responses"] = target.response_kinds
            if target.breach_action != BreachAction.NONE:
                item["on_breach"] = target.breach_action
                if target.reassign_to_id:
                    item["reassign_to"] = target.reassign_to.email
            targets[target.kind] = item
        priorities.append(
            {
                "code": priority.code,
                "name": priority.name,
                "description": priority.description,
                "rank": priority.rank,
                "critical": priority.is_critical,
                "default": priority.is_default,
                "monitor": priority.for_monitor,
                "categories": priority.category_codes,
                "targets": targets,
            }
        )
    return {
        "code": policy.code,
        "name": policy.name,
        "description": policy.description,
        "calendar": policy.calendar.name,
        "calendars": calendars,
        "warn_share": float(policy.warn_share),
        "emergency_route": policy.emergency_route,
        "priorities": priorities,
    }


def _require(data: dict, key: str, where: str) -> Any:
    if key not in data:
        raise ValidationError(f"{where}: '{key}' is missing")
    return data[key]


def import_policy(data: dict[str, Any], *, is_default: bool | None = None) -> SlaPolicy:
    """Create or update the policy ``data['code']`` with its calendars, priorities and targets.

    Priorities and targets are matched by code and kind, so tickets that point at
    them keep pointing at the same rows after a re-import. Any problem, whatever
    the shape of the data, is a ValidationError that says where it is.
    """
    try:
        with transaction.atomic():
            return _import_policy(data, is_default)
    except ProtectedError:
        raise ValidationError(
            "a priority or calendar that tickets still use cannot be removed; "
            "keep it in the file (you may rename it)"
        ) from None
    except IntegrityError as error:
        raise ValidationError(f"conflicts with an existing record: {error}") from None
    except (AttributeError, TypeError, KeyError) as error:
        raise ValidationError(f"the policy is not shaped as expected ({error})") from None


def _clean(instance: Any, where: str) -> None:
    """full_clean, with each message saying where in the file the problem is."""
    try:
        instance.full_clean()
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise ValidationError(
                {k: [f"{where}: {k}: {m}" for m in v] for k, v in error.message_dict.items()}
            ) from None
        raise ValidationError([f"{where}: {m}" for m in error.messages]) from None


def _import_policy(data: dict[str, Any], is_default: bool | None) -> SlaPolicy:
    if not isinstance(data, dict):
        raise ValidationError("a policy is a JSON object")
    code = _require(data, "code", "policy")
    calendars = _import_calendars(_require(data, "calendars", code))
    main = _require(data, "calendar", code)
    if main not in calendars:
        raise ValidationError(f"{code}: calendar {main!r} is not in 'calendars'")
    policy = SlaPolicy.objects.filter(code=code).first() or SlaPolicy(code=code)
    policy.name = _require(data, "name", code)
    policy.description = data.get("description") or ""
    policy.calendar = calendars[main]
    policy.warn_share = str(data.get("warn_share", 0.75))
    policy.emergency_route = data.get("emergency_route") or ""
    if is_default is not None:
        policy.is_default = is_default
    _clean(policy, code)
    policy.save()
    seen = []
    items = _require(data, "priorities", code)
    if not isinstance(items, list):
        raise ValidationError(f"{code}: 'priorities' must be a list")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationError(f"{code}.priorities[{index}]: a priority is an object")
        seen.append(_import_priority(policy, item, calendars, f"{code}.priorities[{index}]"))
    policy.priorities.exclude(code__in=seen).delete()
    return policy


def _import_calendars(specs: Any) -> dict[str, BusinessCalendar]:
    if not isinstance(specs, dict) or not specs:
        raise ValidationError("'calendars' must map names to calendar specs")
    result = {}
    for name, spec in specs.items():
        calendar = BusinessCalendar.objects.filter(name=name).first() or BusinessCalendar(name=name)
        calendar.spec = spec
        _clean(calendar, f"calendars.{name}")
        calendar.save()
        result[name] = calendar
    return result


def _import_priority(
    policy: SlaPolicy, item: dict, calendars: dict[str, BusinessCalendar], where: str
) -> str:
    code = _require(item, "code", where)
    priority = Priority.objects.filter(policy=policy, code=code).first() or Priority(
        policy=policy, code=code
    )
    priority.name = _require(item, "name", where)
    priority.description = item.get("description") or ""
    priority.rank = _require(item, "rank", where)
    priority.is_critical = bool(item.get("critical", False))
    priority.is_default = bool(item.get("default", False))
    priority.for_monitor = bool(item.get("monitor", False))
    priority.category_codes = item.get("categories", [])
    _clean(priority, where)
    priority.save()
    kinds = []
    targets = _require(item, "targets", where)
    if not isinstance(targets, dict):
        raise ValidationError(f"{where}: 'targets' must map a kind to its limits")
    for kind, spec in targets.items():
        if kind not in Kind.__members__.values():
            raise ValidationError(f"{where}: unknown target {kind!r}")
        if not isinstance(spec, dict):
            raise ValidationError(f"{where}.{kind}: a target is an object with a 'limit'")
        _import_target(priority, kind, spec, calendars, f"{where}.{kind}")
        kinds.append(kind)
    priority.targets.exclude(kind__in=kinds).delete()
    return code


def _import_target(
    priority: Priority, kind: str, spec: dict, calendars: dict[str, BusinessCalendar], where: str
) -> None:
    target = Target.objects.filter(priority=priority, kind=kind).first() or Target(
        priority=priority, kind=kind
    )
    target.limit = parse_duration(_require(spec, "limit", where), f"{where}.limit")
    target.aim = parse_duration(spec["aim"], f"{where}.aim") if spec.get("aim") else None
    calendar = spec.get("calendar")
    if calendar is not None and calendar not in calendars:
        raise ValidationError(f"{where}: calendar {calendar!r} is not in 'calendars'")
    target.calendar = calendars[calendar] if calendar else None
    target.pause_statuses = spec.get("pause")
    target.start_on = spec.get("start_on", "created")
    target.response_kinds = spec.get("responses")
    # Without "on_breach" in the file, what an admin set stays (re-importing a
    # preset must not undo local choices); with it, the file decides.
    if "on_breach" in spec:
        target.breach_action = spec["on_breach"] or BreachAction.NONE
        target.reassign_to = None
    if spec.get("reassign_to"):
        target.reassign_to = (
            get_user_model().objects.filter(email__iexact=spec["reassign_to"]).first()
        )
        if target.reassign_to is None or not target.reassign_to.is_agency_staff:
            raise ValidationError(
                f"{where}: no staff member {spec['reassign_to']!r} to reassign to"
            )
    _clean(target, where)
    target.save()
