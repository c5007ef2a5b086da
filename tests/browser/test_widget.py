"""The help widget on a page of ANOTHER origin, in Chromium: a ticket, and the page untouched.

The client's page is served by a plain ``http.server`` on its own loopback
port, with its own CSS; the desk is the live server. Screenshots go to the
test's tmp dir, and also to ``$CAREDESK_SCREENSHOTS`` when set (docs use them).
"""

import os
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from caredesk.clients.models import Site
from caredesk.ops.demo import load_demo
from caredesk.tickets.models import Ticket
from caredesk.tickets.sla_sync import promised_first_response
from caredesk.widget.models import QuarantinedSubmission

pytestmark = pytest.mark.django_db(transaction=True)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Harbour Bakery</title>
<style>
  body { font-family: Georgia, serif; background: #fdf6e3; color: #4a2c0a; margin: 0; }
  header { background: #7a3e00; color: #fff; padding: 24px; }
  h1 { font-size: 40px; margin: 0; letter-spacing: 2px; }
  main { padding: 24px; max-width: 640px; }
  p { line-height: 1.8; }
  button { background: hotpink; border: 4px dashed green; font-size: 30px; }
  input, label { font-size: 22px; color: purple; }
  div { border: 2px solid orange; }
  * { text-transform: uppercase; }
</style></head>
<body>
<header><h1>Harbour Bakery</h1></header>
<main>
  <p id="intro">Fresh bread every morning since 1962. Order a celebration cake online.</p>
  <button id="order">Order a cake</button>
  <div id="box">Opening hours: 7&ndash;17</div>
</main>
<script src="DESK/widget.js" data-site="KEY" async></script>
</body></html>
"""

# A site with a strict Content-Security-Policy that lets in the desk's script
# and API, but no inline style at all.
STRICT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
  content="default-src 'self'; script-src DESK; connect-src DESK; style-src 'self'">
<title>Strict</title></head>
<body><p>A strict page.</p>
<script src="DESK/widget.js" data-site="KEY" defer></script>
</body></html>
"""

WATCHED = ["body", "header", "h1", "#intro", "#order", "#box"]
PROPS = [
    "font-family",
    "font-size",
    "color",
    "background-color",
    "margin-top",
    "padding-top",
    "line-height",
    "text-transform",
    "border-top-style",
]
STYLES_JS = """([selectors, props]) => selectors.map(s => {
  const style = getComputedStyle(document.querySelector(s));
  return props.map(p => style.getPropertyValue(p));
})"""


@pytest.fixture
def host_page(tmp_path, live_server):
    """Harbour Bakery's page on its own origin, with the widget snippet in it."""
    load_demo(activity=False)
    root = tmp_path / "site"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    site = Site.objects.get(organisation__name__startswith="Harbour")
    site.widget_enabled = True
    site.widget_origins = origin
    site.save()
    (root / "index.html").write_text(
        HOST_PAGE.replace("DESK", live_server.url).replace("KEY", site.widget_key)
    )
    (root / "strict.html").write_text(
        STRICT_PAGE.replace("DESK", live_server.url).replace("KEY", site.widget_key)
    )
    (root / "plain.html").write_text(
        HOST_PAGE.replace('<script src="DESK/widget.js" data-site="KEY" async></script>', "")
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield origin
    server.shutdown()
    server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def shot(page, tmp_path, name: str) -> None:
    path = tmp_path / f"widget-{name}.png"
    page.screenshot(path=str(path), animations="disabled")
    target = os.environ.get("CAREDESK_SCREENSHOTS")
    if target:
        shutil.copy(path, os.path.join(target, path.name))


def active_id(page) -> str:
    return page.evaluate(
        "() => { const a = document.querySelector('caredesk-widget').shadowRoot.activeElement;"
        " return a ? (a.id || a.className) : ''; }"
    )


def test_visitor_sends_a_ticket_from_another_origin_and_the_page_keeps_its_styles(
    page, host_page, tmp_path, settings
):
    settings.CAREDESK_WIDGET_MIN_FILL_SECONDS = 2
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{host_page}/plain.html")
    before = page.evaluate(STYLES_JS, [WATCHED, PROPS])
    globals_before = set(page.evaluate("() => Object.keys(window)"))

    page.goto(f"{host_page}/index.html")
    launcher = page.locator("caredesk-widget .launcher")
    launcher.wait_for()
    assert page.evaluate(STYLES_JS, [WATCHED, PROPS]) == before
    assert set(page.evaluate("() => Object.keys(window)")) - globals_before == {"caredeskWidget"}
    # The host's "button" and "*" rules do not reach into the widget.
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(36, 86, 199)"
    assert launcher.evaluate("b => getComputedStyle(b).textTransform") == "none"
    box = launcher.bounding_box()
    assert box["x"] + box["width"] > 1280 - 40 and box["y"] + box["height"] > 900 - 40
    shot(page, tmp_path, "closed")

    launcher.click()
    page.get_by_label("Your name").wait_for()
    assert active_id(page) == "cdw-name"
    page.get_by_label("Your name").fill("Jo Marsh")
    page.get_by_label("Your email").fill("jo@harbourbakery.example")
    page.get_by_label("Subject").fill("Cake order form does not send")
    page.get_by_label("How can we help?").fill("Pressing Send on the cake page shows an error.")
    page.get_by_label("Attach a file").set_input_files(
        {"name": "error.png", "mimeType": "image/png", "buffer": b"\x89PNG screenshot"}
    )
    assert page.evaluate(STYLES_JS, [WATCHED, PROPS]) == before
    intro = page.locator("caredesk-widget .intro")
    assert intro.evaluate("p => getComputedStyle(p).textTransform") == "none"
    assert "Georgia" not in intro.evaluate("p => getComputedStyle(p).fontFamily")
    shot(page, tmp_path, "form")
    # Faster than the minimum fill time: the widget waits out the rest itself.
    page.get_by_role("button", name="Send request").click()

    page.locator("caredesk-widget .number").wait_for()
    ticket = Ticket.objects.get()
    assert page.locator("caredesk-widget .number").inner_text() == ticket.reference
    promise = promised_first_response(ticket)
    assert promise and promise in page.locator("caredesk-widget .when").inner_text()
    assert "(Europe/London time)" in page.locator("caredesk-widget .when").inner_text()
    assert ticket.channel == "widget" and ticket.requester.email == "jo@harbourbakery.example"
    assert ticket.site.widget_origins == host_page
    assert ticket.messages.get().attachments.get().filename == "error.png"
    assert page.evaluate(STYLES_JS, [WATCHED, PROPS]) == before
    shot(page, tmp_path, "confirmation")
    assert errors == []
    assert not QuarantinedSubmission.objects.exists()


def test_the_form_is_used_with_the_keyboard_alone(page, host_page, tmp_path):
    page.goto(f"{host_page}/index.html")
    page.locator("caredesk-widget .launcher").wait_for()
    page.locator("caredesk-widget .launcher").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Your name").wait_for()
    assert active_id(page) == "cdw-name"
    page.keyboard.press("Shift+Tab")
    assert active_id(page) == "close"
    # Shift+Tab from the first control goes round to the last one, not to the page.
    page.keyboard.press("Shift+Tab")
    assert active_id(page) == "send"
    page.keyboard.press("Tab")
    assert active_id(page) == "close"
    for _ in range(12):
        page.keyboard.press("Tab")
        assert active_id(page) != "cdw-website"  # the spam trap is never reached
        assert page.evaluate("() => document.activeElement.tagName") == "CAREDESK-WIDGET"
    page.keyboard.press("Escape")
    assert page.locator("caredesk-widget .panel").is_hidden()
    assert active_id(page) == "launcher"

    page.keyboard.press("Enter")
    page.get_by_role("button", name="Send request").click()
    assert page.locator("caredesk-widget #cdw-name-error").inner_text() == "Please fill this in."
    assert page.get_by_label("Your name").get_attribute("aria-invalid") == "true"
    assert active_id(page) == "cdw-name"
    shot(page, tmp_path, "errors")


def test_server_errors_show_next_to_their_fields(page, host_page, settings):
    settings.CAREDESK_UNKNOWN_SENDERS = "refuse"
    settings.CAREDESK_WIDGET_MIN_FILL_SECONDS = 0
    page.goto(f"{host_page}/index.html")
    page.locator("caredesk-widget .launcher").click()
    page.get_by_label("Your name").fill("Sam Stranger")
    page.get_by_label("Your email").fill("sam@elsewhere.example")
    page.get_by_label("Subject").fill("Hello")
    page.get_by_label("How can we help?").fill("Do you deliver?")
    page.get_by_role("button", name="Send request").click()
    error = page.locator("caredesk-widget #cdw-email-error")
    error.wait_for()
    assert "not registered" in error.inner_text()
    assert not Ticket.objects.exists()


def test_readable_on_a_phone(browser, host_page, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{host_page}/index.html")
    page.locator("caredesk-widget .launcher").click()
    name = page.get_by_label("Your name")
    name.wait_for()
    panel = page.locator("caredesk-widget .panel").bounding_box()
    assert panel["x"] == 0 and panel["width"] == 390
    field = name.bounding_box()
    assert field["x"] >= 12 and field["x"] + field["width"] <= 390 - 12
    assert name.evaluate("i => getComputedStyle(i).fontSize") == "16px"
    shot(page, tmp_path, "phone")
    context.close()


def test_a_page_with_a_strict_content_security_policy_shows_the_widget_styled(page, host_page):
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0)
    page.goto(f"{host_page}/strict.html")
    launcher = page.locator("caredesk-widget .launcher")
    launcher.click()
    page.get_by_label("Your name").wait_for()
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(36, 86, 199)"
    panel = page.locator("caredesk-widget .panel")
    assert panel.evaluate("p => getComputedStyle(p).position") == "absolute"
    assert page.locator("caredesk-widget .hint").inner_text() == "One file, up to 25 MB."
    assert violations == []


def test_a_page_whose_origin_is_not_allowed_gets_no_form(page, host_page):
    Site.objects.filter(widget_enabled=True).update(widget_origins="https://elsewhere.example")
    page.goto(f"{host_page}/index.html")
    page.locator("caredesk-widget .launcher").click()
    alert = page.locator("caredesk-widget .alert")
    alert.wait_for()
    assert "not available right now" in alert.inner_text()
