from django.db import migrations, models

import caredesk.clients.models


def give_keys(apps, schema_editor):
    # A callable default is evaluated once for AddField: every existing site
    # would share one key. Each gets its own before the column turns unique.
    Site = apps.get_model("clients", "Site")
    for site in Site.objects.only("pk"):
        Site.objects.filter(pk=site.pk).update(widget_key=caredesk.clients.models.new_widget_key())


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="site",
            name="widget_enabled",
            field=models.BooleanField(
                default=False,
                help_text="Accept tickets from the help widget placed on this site.",
                verbose_name="widget on",
            ),
        ),
        migrations.AddField(
            model_name="site",
            name="widget_key",
            field=models.CharField(editable=False, max_length=40, null=True),
        ),
        migrations.RunPython(give_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="site",
            name="widget_key",
            field=models.CharField(
                default=caredesk.clients.models.new_widget_key,
                editable=False,
                help_text="Public: it goes in the site's page source as data-site.",
                max_length=40,
                unique=True,
            ),
        ),
        migrations.AddField(
            model_name="site",
            name="widget_origins",
            field=models.TextField(
                blank=True,
                help_text="Pages allowed to send the widget's form, one origin per line "
                "(https://www.example.com). Empty: only the site's own address.",
                validators=[caredesk.clients.models.validate_widget_origins],
                verbose_name="widget origins",
            ),
        ),
    ]
