"""The core domain: projects and their members, asset sets, assets, jobs and API tokens."""

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.OWNER: 2}


class Project(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    # A label unique among each user's own projects, not across the service: a global
    # uniqueness check would tell anyone which slugs other people's projects use.
    slug = models.SlugField(max_length=80)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", through_fields=("project", "user"),
                                     related_name="projects")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A user's role in a project. An owner's invitation is a membership not yet accepted:
    it grants nothing until the invited user accepts it (or is deleted when they decline),
    so nobody is put into a project, or shown its work, without saying yes."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    accepted = models.BooleanField(default=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="unique_member")]
        ordering = ["created_at", "id"]

    def allows(self, needed: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(needed)]


class AssetSetKind(models.TextChoices):
    UPLOAD = "upload"
    MATERIAL = "material"
    TEXTURE_VARIATIONS = "texture-variations"
    UPSCALE = "upscale"
    PREVIEW = "preview"
    EXPORT = "export"


MAX_TAGS = 32  # with TAG_MAX_LENGTH, tag_index stays under its 2000 characters
TAG_MAX_LENGTH = 50


class AssetSet(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="asset_sets")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=AssetSetKind.choices, default=AssetSetKind.UPLOAD)
    job = models.ForeignKey("Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="produced_sets")
    tags = models.JSONField(default=list, blank=True)
    # "|tag1|tag2|": lets every database filter by tag with a plain substring match.
    tag_index = models.CharField(max_length=2000, default="", blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["project", "kind"])]

    def set_tags(self, tags):
        """Callers validate tags (serializers.TagList): at most MAX_TAGS, no '|' (the index's separator)."""
        self.tags = sorted({t.strip() for t in tags if t.strip()})
        self.tag_index = "|" + "|".join(self.tags) + "|" if self.tags else ""

    def storage_prefix(self) -> str:
        return f"projects/{self.project_id}/sets/{self.id}"


class ColourSpace(models.TextChoices):
    SRGB = "srgb"
    LINEAR = "linear"


class BitDepth(models.TextChoices):
    U8 = "8"
    U16 = "16"
    F32 = "32f"


def asset_upload_path(asset: "Asset", filename: str) -> str:
    return f"{asset.asset_set.storage_prefix()}/{asset.name}"


class Asset(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    asset_set = models.ForeignKey(AssetSet, on_delete=models.CASCADE, related_name="assets")
    # File name inside the set, unique per set (e.g. "albedo.png", "texture_2.png").
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=40)
    file = models.FileField(upload_to=asset_upload_path, max_length=400)
    original_name = models.CharField(max_length=255, blank=True, default="")
    format = models.CharField(max_length=10)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    channels = models.PositiveSmallIntegerField()
    bit_depth = models.CharField(max_length=3, choices=BitDepth.choices)
    colour_space = models.CharField(max_length=10, choices=ColourSpace.choices)
    byte_size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    # The asset this one was derived from (a preview's original, an upscale's input).
    source = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="derived")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["asset_set", "name"]
        constraints = [models.UniqueConstraint(fields=["asset_set", "name"], name="unique_asset_name_in_set")]

    @property
    def project_id(self):
        return self.asset_set.project_id

    @property
    def display_name(self) -> str:
        """The name a person knows the file by: the uploaded file's name when there was one
        ("oak_floor_1k.png"), else the stored one ("albedo.png"), with the stored one beside it
        when they differ."""
        if self.original_name and self.original_name != self.name:
            return f"{self.original_name} ({self.name})"
        return self.name


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=64)
    params = models.JSONField(default=dict)
    # Named inputs as the kind declares them: {"assets": ["<uuid>", ...], "flash": "<uuid>"}.
    inputs = models.JSONField(default=dict)
    input_assets = models.ManyToManyField(Asset, blank=True, related_name="consumed_by")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.FloatField(default=0.0)
    stage = models.CharField(max_length=200, blank=True, default="")
    error = models.TextField(blank=True, default="")
    queue = models.CharField(max_length=20, default="default")
    time_limit_s = models.PositiveIntegerField(default=600)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    worker_host = models.CharField(max_length=200, blank=True, default="")
    device = models.CharField(max_length=20, blank=True, default="")
    output_set = models.OneToOneField(
        AssetSet, null=True, blank=True, on_delete=models.SET_NULL, related_name="output_of"
    )
    result = models.JSONField(default=dict, blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-queued_at", "id"]
        indexes = [models.Index(fields=["project", "status"]), models.Index(fields=["project", "kind"])]

    @property
    def is_finished(self) -> bool:
        return self.status not in ACTIVE_STATUSES


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A named API key. Only its SHA-256 is stored; the key is shown once, at creation."""

    KEY_PREFIX = "gat_"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # First characters of the key, to find the row and to show the user which key is which.
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]

    @classmethod
    def issue(cls, user, name: str) -> tuple["ApiToken", str]:
        key = cls.KEY_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=key[:12], key_hash=_hash_key(key))
        return token, key

    @classmethod
    def find_active(cls, key: str) -> "ApiToken | None":
        return (
            cls.objects.select_related("user")
            .filter(key_hash=_hash_key(key), revoked_at__isnull=True, user__is_active=True)
            .first()
        )


class LoginFailures(models.Model):
    """Wrong passwords from one address within a minute of each other (webapp.auth): kept in the
    database, so every web process counts the same failures."""

    address = models.CharField(max_length=64, unique=True)
    count = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(default=timezone.now, db_index=True)
