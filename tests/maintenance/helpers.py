"""Sites caredesk maintains, pointed at the loopback servers of these tests."""

from caredesk.clients.models import Connection, Site
from caredesk.maintenance.sites import settings_for

KEY = "k" * 64

INVENTORY = {
    "connector": "1.0.0",
    "core": {"version": "6.4.2", "update": None},
    "php": "8.2.10",
    "plugins": [
        {"slug": "akismet", "name": "Akismet", "version": "5.3", "active": True, "update": "5.3.1"}
    ],
    "themes": [{"slug": "tt4", "name": "TT4", "version": "1.0", "active": True, "update": None}],
}


def connected_site(organisation, url: str, **fields) -> Site:
    site = Site.objects.create(
        organisation=organisation,
        name=fields.pop("name", "Alpha WordPress"),
        url=url,
        connection=Connection.COMPANION,
        connection_secret=KEY,
        **fields,
    )
    settings = settings_for(site)
    settings.allow_private = True
    settings.save()
    return site
