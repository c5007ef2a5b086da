"""Sites that existed before monitoring get their default HTTP monitor too."""

from django.db import migrations

from caredesk.lib import clock


def add_default_monitors(apps, schema_editor):
    Site = apps.get_model("clients", "Site")
    Monitor = apps.get_model("monitoring", "Monitor")
    now = clock.now()
    monitored = set(Monitor.objects.filter(is_default=True).values_list("site_id", flat=True))
    Monitor.objects.bulk_create(
        [
            Monitor(
                site_id=pk, kind="http", url=url, is_default=True, created_at=now, updated_at=now
            )
            for pk, url in Site.objects.values_list("pk", "url")
            if pk not in monitored
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]

    operations = [migrations.RunPython(add_default_monitors, migrations.RunPython.noop)]
