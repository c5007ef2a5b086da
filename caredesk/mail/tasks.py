from django.conf import settings
from django_tasks import task

from .outbound import send_outbox

__all__ = ["poll_imap", "send_outbox"]


@task()
def poll_imap() -> int:
    """Fetch new mail from the configured IMAP mailbox (nothing to do without one)."""
    if not settings.CAREDESK_IMAP_URL:
        return 0
    from .imap import ImapConfig, poll

    return poll(ImapConfig.from_url(settings.CAREDESK_IMAP_URL, settings.CAREDESK_IMAP_DONE_FOLDER))
