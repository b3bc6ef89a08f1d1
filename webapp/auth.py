"""API token authentication: `Authorization: Token <key>` (or `Bearer <key>`)."""

from django.utils import timezone
from rest_framework import authentication, exceptions

from webapp.models import ApiToken


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: expected 'Token <key>'.")
        key = header[1].decode(errors="replace")
        token = ApiToken.find_active(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.")
        now = timezone.now()
        # Touch at most once a minute: a pipeline polling job status should not write on every read.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return "Token"


# -- password guessing -------------------------------------------------------------------------
# After LOGIN_FAILURES_PER_MINUTE wrong passwords from one address, every attempt from it (API
# token exchange and the sign-in page alike) is refused until a minute since the last failure.
# Counted in the default cache, i.e. per web process.

def _failures_key(request) -> str:
    return f"login-failures:{request.META.get('REMOTE_ADDR', '')}"


def too_many_login_failures(request) -> bool:
    from django.conf import settings
    from django.core.cache import cache

    return cache.get(_failures_key(request), 0) >= settings.LOGIN_FAILURES_PER_MINUTE


def record_login_failure(request) -> None:
    from django.core.cache import cache

    key = _failures_key(request)
    cache.set(key, cache.get(key, 0) + 1, timeout=60)
