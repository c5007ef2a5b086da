"""The inbound webhooks of email providers (django-anymail), each refusing cleanly when unset.

anymail routes every provider it knows, and a provider that needs a setting
caredesk was not given (an API key, a signing secret, boto3 for Amazon SES)
raises a configuration error on each request: a 500 for whoever knocks. Here
each view answers 404 instead, naming nothing, until the agency sets up the
provider it uses; configured providers work exactly as anymail built them.
"""

from functools import wraps

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailConfigurationError
from django.http import Http404
from django.urls import URLPattern
from django.views.decorators.csrf import csrf_exempt


def _unless_unconfigured(view):
    @csrf_exempt
    @wraps(view)
    def guarded(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except AnymailConfigurationError:
            raise Http404("No such webhook") from None

    return guarded


def _guarded(pattern: URLPattern) -> URLPattern:
    return URLPattern(
        pattern.pattern, _unless_unconfigured(pattern.callback), pattern.default_args, pattern.name
    )


app_name = "anymail"
urlpatterns = [_guarded(pattern) for pattern in anymail_urls.urlpatterns]
