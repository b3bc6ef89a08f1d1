from pathlib import Path

from webapp.env import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = env("VAR_DIR", Path, BASE_DIR / "var")

DEBUG = env("DJANGO_DEBUG", bool, False)
SECRET_KEY = env("DJANGO_SECRET_KEY", str, "")
if not SECRET_KEY:
    # A per-installation key kept under var/, so sessions survive restarts without a checked-in secret.
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        import secrets

        _key_file.parent.mkdir(parents=True, exist_ok=True)
        _key_file.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = _key_file.read_text().strip()

ALLOWED_HOSTS = env("DJANGO_ALLOWED_HOSTS", list, ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env("DJANGO_CSRF_TRUSTED_ORIGINS", list, [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_dramatiq",
    "webapp",
    "materials",
    "textures",
    "superres",
    "gpu_workers",
    "integrations",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve app static files (API docs assets, front end) straight from the apps: no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "webapp.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "webapp.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "webapp.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Game-asset materials and textures API",
    "DESCRIPTION": "Projects, asset sets, uploads and GPU jobs: two-shot material capture, "
    "texture variations and super-resolution.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name for webhook events, used by endpoints and deliveries alike.
    "ENUM_NAME_OVERRIDES": {"WebhookEventEnum": "integrations.models.WebhookEvent"},
}

# Wrong passwords per minute from one address before POST /auth/token answers 429.
LOGIN_FAILURES_PER_MINUTE = env("LOGIN_FAILURES_PER_MINUTE", int, 10)

# Upload limits: bytes per file, decoded pixels per image (decompression bombs), files per request.
MAX_UPLOAD_BYTES = env("MAX_UPLOAD_BYTES", int, 200 * 1024 * 1024)
MAX_UPLOAD_PIXELS = env("MAX_UPLOAD_PIXELS", int, 8192 * 8192)
MAX_UPLOAD_FILES = env("MAX_UPLOAD_FILES", int, 64)
DATA_UPLOAD_MAX_NUMBER_FILES = MAX_UPLOAD_FILES
FILE_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", str, "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
