"""API token authentication: `Authorization: Token <key>` (or `Bearer <key>`)."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from rest_framework import authentication, exceptions

from webapp.models import ApiToken, LoginFailures


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
# Counted in the database (LoginFailures), so all web processes share the count.

FAILURE_WINDOW_S = 60


def _address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")[:64]


def too_many_login_failures(request) -> bool:
    recent = timezone.now() - timedelta(seconds=FAILURE_WINDOW_S)
    return LoginFailures.objects.filter(address=_address(request), last_failure_at__gte=recent,
                                        count__gte=settings.LOGIN_FAILURES_PER_MINUTE).exists()


def record_login_failure(request) -> None:
    now = timezone.now()
    recent = now - timedelta(seconds=FAILURE_WINDOW_S)
    address = _address(request)
    # One UPDATE: a failure within the window adds one, a later one starts the count again.
    updated = LoginFailures.objects.filter(address=address).update(
        count=Case(When(last_failure_at__gte=recent, then=F("count") + 1), default=Value(1)),
        last_failure_at=now)
    if not updated:
        try:
            with transaction.atomic():
                LoginFailures.objects.create(address=address, count=1, last_failure_at=now)
        except IntegrityError:  # another process created it meanwhile
            LoginFailures.objects.filter(address=address).update(count=F("count") + 1, last_failure_at=now)
    LoginFailures.objects.filter(last_failure_at__lt=now - timedelta(hours=1)).delete()
