"""An email backend that adds a report's attachments, then hands the mail to the real one.

Set as ``EMAIL_BACKEND``, with the transport it wraps in
``CAREDESK_MAIL_TRANSPORT`` (SMTP, a provider, the file backend). Mail
without the report header passes through untouched.
"""

from email.mime.image import MIMEImage

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend

from .branding import LOGO_CID, brand
from .deliver import REPORT_HEADER
from .models import Report


class ReportMissing(Exception):
    """The mail names a report that no longer exists: sending it bare would mislead."""


def _inline(data: bytes, subtype: str, cid: str, filename: str) -> MIMEImage:
    image = MIMEImage(data, _subtype=subtype)
    image.add_header("Content-ID", f"<{cid}>")
    image.add_header("Content-Disposition", "inline", filename=filename)
    return image


def attach_report(message) -> None:
    """Attach the PDF and pictures of the report the message's header names, if any."""
    headers = getattr(message, "extra_headers", {})
    report_id = headers.pop(REPORT_HEADER, None)
    if report_id is None:
        return
    report = Report.objects.select_related("organisation").filter(pk=int(report_id)).first()
    if report is None or not report.pdf:
        raise ReportMissing(f"report {report_id} is gone or was never built")
    the_brand = brand()
    if the_brand.logo:
        subtype = the_brand.logo_type.split("/")[1]
        message.attach(_inline(the_brand.logo, subtype, LOGO_CID, the_brand.logo_filename))
    for image in report.images.all():
        message.attach(_inline(bytes(image.png), "png", image.content_id, image.filename))
    message.attach(report.filename, bytes(report.pdf), "application/pdf")


class EmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs) -> None:
        super().__init__(fail_silently=fail_silently)
        transport = getattr(
            settings, "CAREDESK_MAIL_TRANSPORT", "django.core.mail.backends.smtp.EmailBackend"
        )
        self.transport = get_connection(transport, fail_silently=fail_silently, **kwargs)

    def open(self):
        return self.transport.open()

    def close(self) -> None:
        self.transport.close()

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            attach_report(message)
        return self.transport.send_messages(email_messages)
