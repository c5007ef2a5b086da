"""The ``caredesk`` command: Django's manage.py, plus a one-line configuration error."""

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["probe"]:
        from caredesk.monitoring.engine import remote

        # A remote probe has no database and no settings to load: it only talks to the API.
        if remote.wants_remote(sys.argv[2:], os.environ):
            sys.exit(remote.main(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caredesk.settings")
    from caredesk.lib.env import ConfigError

    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 - reading it loads and validates the settings.
    except ConfigError as error:
        print(f"caredesk: configuration error: {error}", file=sys.stderr)
        sys.exit(2)

    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
