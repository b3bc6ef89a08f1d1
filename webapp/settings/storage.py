"""Database and file storage. SQLite and local files by default; DATABASE_URL and S3_* switch to servers."""

import dj_database_url

from webapp.env import env

from .base import VAR_DIR

DATABASE_URL = env("DATABASE_URL", str, "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {
                # WAL lets the web server read while a worker writes; IMMEDIATE avoids
                # "database is locked" upgrades from read to write transactions.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            "TEST": {"NAME": VAR_DIR / "test-db.sqlite3"},
        }
    }

MEDIA_ROOT = env("MEDIA_ROOT", str, str(VAR_DIR / "media"))
# Job outputs are staged here and committed to storage in one step when the job succeeds.
JOB_STAGING_ROOT = env("JOB_STAGING_ROOT", str, str(VAR_DIR / "staging"))

S3_BUCKET = env("S3_BUCKET", str, "") or env("AWS_STORAGE_BUCKET_NAME", str, "")
if S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env("S3_ENDPOINT_URL", str, "") or None,
            "region_name": env("S3_REGION", str, "") or None,
            "access_key": env("S3_ACCESS_KEY_ID", str, "") or env("AWS_ACCESS_KEY_ID", str, "") or None,
            "secret_key": env("S3_SECRET_ACCESS_KEY", str, "") or env("AWS_SECRET_ACCESS_KEY", str, "") or None,
            "location": env("S3_PREFIX", str, ""),
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    }

STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
