import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from caredesk.sla.models import SlaPolicy
from caredesk.sla.policy_io import export_policy, import_policy, load_preset, preset_names


class Command(BaseCommand):
    help = "Import or export SLA policies as JSON, or install a shipped preset."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="Create or update a policy from a JSON file.")
        imp.add_argument("file", type=Path)
        exp = sub.add_parser("export", help="Print a policy as JSON.")
        exp.add_argument("code")
        pre = sub.add_parser("preset", help=f"Install a preset: {', '.join(preset_names())}.")
        pre.add_argument("name")
        sub.add_parser("presets", help="List the shipped presets.")

    def handle(self, *args, action: str, **options):
        try:
            if action == "presets":
                self.stdout.write("\n".join(preset_names()))
            elif action == "export":
                policy = SlaPolicy.objects.filter(code=options["code"]).first()
                if policy is None:
                    raise CommandError(f"no policy with code {options['code']!r}")
                self.stdout.write(json.dumps(export_policy(policy), indent=2))
            else:
                data = (
                    load_preset(options["name"])
                    if action == "preset"
                    else self._read(options["file"])
                )
                policy = import_policy(data)
                self.stdout.write(f"Policy {policy.code} ({policy.name}) saved.")
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None

    def _read(self, path: Path):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
        except json.JSONDecodeError as error:
            raise CommandError(f"{path}: not JSON ({error})") from None
