from django.http import HttpRequest
from ninja.security import HttpBearer

from caredesk.accounts.models import ApiToken
from caredesk.lib import clock


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``; tokens are made per user in the admin."""

    def authenticate(self, request: HttpRequest, token: str):
        api_token = ApiToken.objects.authenticate(token)
        if api_token is None:
            return None
        now = clock.now()
        # Write at most once a minute per token: the API must not turn reads into writes.
        if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = api_token.user
        return api_token.user
