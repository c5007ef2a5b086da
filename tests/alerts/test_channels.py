"""Each channel tells a failure that may pass from one that cannot, against real servers."""

import pytest
from aiosmtpd.controller import Controller

from caredesk.alerts.channels import REGISTRY, Notice, PermanentError, TemporaryError, channel_for
from caredesk.alerts.channels.email import EmailChannel
from tests.mail_pipeline.conftest import start_controller

NOTICE = Notice(subject="DOWN: Alpha shop", text="down", html="<p>down</p>", down=1, up=0)


class Refusing:
    """A mail server that knows nobody (550) or is busy (451)."""

    def __init__(self, code: str) -> None:
        self.code = code

    async def handle_RCPT(self, server, session, envelope, address, options):
        return self.code


@pytest.fixture
def smtp(settings):
    started = []

    def serve(code: str) -> None:
        server = start_controller(
            lambda port: Controller(Refusing(code), hostname="127.0.0.1", port=port)
        )
        started.append(server)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5

    yield serve
    for server in started:
        server.stop()


def test_an_address_the_server_refuses_is_a_permanent_error(smtp):
    smtp("550 5.1.1 no such mailbox")
    with pytest.raises(PermanentError, match="every recipient refused"):
        EmailChannel("nobody@agency.example").send(NOTICE)


def test_a_busy_server_is_a_temporary_error(smtp):
    smtp("451 4.3.0 try again later")
    busy = r"oncall@agency\.example: 451 4\.3\.0 try again later"
    with pytest.raises(TemporaryError, match=busy):
        EmailChannel("oncall@agency.example").send(NOTICE)


def test_a_mail_server_that_is_away_is_a_temporary_error(settings):
    from tests.monitoring.servers import closed_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    with pytest.raises(TemporaryError, match="ConnectionRefusedError"):
        EmailChannel("oncall@agency.example").send(NOTICE)


def test_an_apprise_endpoint_that_is_away_is_a_temporary_error():
    from tests.monitoring.servers import closed_port

    with pytest.raises(TemporaryError, match="JSON failed"):
        channel_for("apprise", f"json://127.0.0.1:{closed_port()}/").send(NOTICE)


def test_targets_are_checked_and_tidied():
    assert EmailChannel.check_target("A@x.example; b@y.example\nc@z.example") == (
        "a@x.example, b@y.example, c@z.example"
    )
    with pytest.raises(ValueError, match="not an email address"):
        EmailChannel.check_target("a@x.example, nope")
    with pytest.raises(ValueError, match="at least one"):
        REGISTRY["apprise"].check_target("  \n ")


def test_an_unknown_kind_is_permanent():
    with pytest.raises(PermanentError, match="unknown channel kind"):
        channel_for("pigeon", "coop")
