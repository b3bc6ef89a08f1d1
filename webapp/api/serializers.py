from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.text import slugify
from rest_framework import serializers

from webapp.access import projects_for
from webapp.models import MAX_TAGS, TAG_MAX_LENGTH, ApiToken, Asset, AssetSet, AssetSetKind, Job, Membership, Project, Role


class ProjectSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(required=False, max_length=80)
    role = serializers.SerializerMethodField(help_text="Your role in the project.")

    class Meta:
        model = Project
        fields = ["id", "name", "slug", "description", "created_at", "role"]
        read_only_fields = ["id", "created_at", "role"]

    def get_role(self, project) -> str | None:
        user = self.context["request"].user
        membership = next((m for m in project.memberships.all() if m.user_id == user.id), None)
        return membership.role if membership else None

    def _own_projects(self):
        """The requesting user's projects: slugs are unique among these only, so that
        neither a refusal nor a "-2" suffix reveals another user's project."""
        return projects_for(self.context["request"].user)

    def validate_slug(self, value):
        qs = self._own_projects().filter(slug=value)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError("You already have a project with this slug.")
        return value

    def create(self, validated_data):
        if not validated_data.get("slug"):
            base = slugify(validated_data["name"])[:60] or "project"
            taken = set(self._own_projects().filter(slug__startswith=base).values_list("slug", flat=True))
            slug, n = base, 2
            while slug in taken:
                slug, n = f"{base}-{n}", n + 1
            validated_data["slug"] = slug
        return super().create(validated_data)


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True,
                                   help_text="Shown to the project's owners and to the member; empty for others.")
    accepted = serializers.BooleanField(read_only=True,
                                        help_text="False while the user has not accepted the invitation yet.")
    invited_by = serializers.CharField(source="invited_by.username", read_only=True, default=None)

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "role", "accepted", "invited_by", "created_at"]
        read_only_fields = ["id", "username", "email", "accepted", "invited_by", "created_at"]

    def to_representation(self, membership):
        data = super().to_representation(membership)
        # E-mail addresses are personal: owners (who manage members) and the member see them.
        request = self.context.get("request")
        requester_is_owner = self.context.get("requester_role") == Role.OWNER
        if not requester_is_owner and (request is None or membership.user_id != request.user.id):
            data["email"] = ""
        return data


class InvitationSerializer(serializers.ModelSerializer):
    """An invitation to a project, as the invited user sees it."""

    project = serializers.SerializerMethodField()
    invited_by = serializers.CharField(source="invited_by.username", read_only=True, default=None)

    class Meta:
        model = Membership
        fields = ["id", "project", "role", "invited_by", "created_at"]
        read_only_fields = fields

    def get_project(self, membership) -> dict:
        return {"id": str(membership.project_id), "name": membership.project.name}


class AddMemberSerializer(serializers.Serializer):
    username = serializers.CharField(help_text="Username or e-mail address of an existing user.")
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)

    def validate_username(self, value):
        User = get_user_model()
        user = User.objects.filter(username=value).first() or User.objects.filter(email__iexact=value).first()
        if user is None or not user.is_active:
            raise serializers.ValidationError(f"No active user '{value}'.")
        return user


def _asset_download_url(asset: Asset) -> str:
    return reverse("api:asset-download", kwargs={"project_id": asset.asset_set.project_id, "asset_id": asset.id})


class AssetSerializer(serializers.ModelSerializer):
    set = serializers.UUIDField(source="asset_set_id", read_only=True)
    download_url = serializers.SerializerMethodField()
    source = serializers.UUIDField(source="source_id", read_only=True, allow_null=True)
    thumbnail_url = serializers.SerializerMethodField(help_text="Newest thumbnail made by a previews job, if any.")

    class Meta:
        model = Asset
        fields = ["id", "set", "name", "role", "original_name", "format", "width", "height", "channels",
                  "bit_depth", "colour_space", "byte_size", "sha256", "source", "metadata", "created_at",
                  "download_url", "thumbnail_url"]
        read_only_fields = fields

    def get_download_url(self, asset) -> str:
        return _asset_download_url(asset)

    def get_thumbnail_url(self, asset) -> str | None:
        thumbnails = [d for d in asset.derived.all() if d.role == "thumbnail"]
        if asset.role == "thumbnail":
            return _asset_download_url(asset)
        if not thumbnails:
            return None
        return _asset_download_url(max(thumbnails, key=lambda a: a.created_at))


def _no_separator(tag: str) -> None:
    if "|" in tag:
        raise serializers.ValidationError("A tag cannot contain '|'.")


def tag_list(**options) -> serializers.ListField:
    """Set tags: at most MAX_TAGS of at most TAG_MAX_LENGTH characters each, without '|'."""
    return serializers.ListField(child=serializers.CharField(max_length=TAG_MAX_LENGTH, validators=[_no_separator]),
                                 max_length=MAX_TAGS, **options)


class AssetSetSerializer(serializers.ModelSerializer):
    tags = tag_list(required=False)
    asset_count = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField(help_text="A thumbnail of the set's first asset, if any.")
    download_url = serializers.SerializerMethodField()
    job = serializers.UUIDField(source="job_id", read_only=True, allow_null=True)

    class Meta:
        model = AssetSet
        fields = ["id", "name", "kind", "job", "tags", "created_at", "asset_count", "download_url", "thumbnail_url"]
        read_only_fields = ["id", "kind", "job", "created_at", "asset_count", "download_url", "thumbnail_url"]

    def get_asset_count(self, asset_set) -> int:
        return len(asset_set.assets.all())

    def get_thumbnail_url(self, asset_set) -> str | None:
        thumbnail_of = AssetSerializer().get_thumbnail_url
        return next((url for url in map(thumbnail_of, asset_set.assets.all()) if url), None)

    def get_download_url(self, asset_set) -> str:
        return reverse("api:set-download", kwargs={"project_id": asset_set.project_id, "set_id": asset_set.id})

    def update(self, instance, validated_data):
        if "tags" in validated_data:
            instance.set_tags(validated_data.pop("tags"))
        return super().update(instance, validated_data)


class AssetSetDetailSerializer(AssetSetSerializer):
    assets = AssetSerializer(many=True, read_only=True)

    class Meta(AssetSetSerializer.Meta):
        fields = AssetSetSerializer.Meta.fields + ["assets"]


class UploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(allow_empty_file=False), allow_empty=False,
                                  help_text="One or more image files (PNG, JPEG, TIFF, WebP, EXR).")
    roles = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list,
                                  help_text="One role for all files, or one per file (default: texture).")
    set = serializers.UUIDField(required=False, help_text="Add to this existing asset set instead of a new one.")
    name = serializers.CharField(required=False, max_length=200, help_text="Name of the new asset set.")
    tags = tag_list(required=False, default=list)
    colour_space = serializers.ChoiceField(choices=["srgb", "linear"], required=False,
                                           help_text="Override the colour space guessed from role and format.")
    previews = serializers.BooleanField(default=True, help_text="Queue a previews job for the new assets.")


class UploadResultSerializer(serializers.Serializer):
    set = AssetSetSerializer()
    assets = AssetSerializer(many=True)
    previews_job = serializers.UUIDField(allow_null=True)


class JobSerializer(serializers.ModelSerializer):
    output_set = serializers.UUIDField(source="output_set_id", read_only=True, allow_null=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ["id", "url", "kind", "params", "inputs", "status", "progress", "stage", "error", "attempts",
                  "max_attempts", "queue", "time_limit_s", "worker_host", "device", "output_set", "result",
                  "queued_at", "started_at", "finished_at"]
        read_only_fields = fields

    def get_url(self, job) -> str:
        return reverse("api:job-detail", kwargs={"project_id": job.project_id, "job_id": job.id})


class JobCreateSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=64, help_text="A job kind from GET /api/v1/job-kinds.")
    params = serializers.DictField(required=False, default=dict)
    inputs = serializers.JSONField(required=False, default=dict,
                                   help_text='Named inputs, e.g. {"assets": ["<asset id>"]} or {"sets": ["<set id>"]}.')


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]


class NewTokenSerializer(TokenSerializer):
    key = serializers.CharField(read_only=True, help_text="The key; shown only once.")

    class Meta(TokenSerializer.Meta):
        fields = TokenSerializer.Meta.fields + ["key"]


class LoginTokenSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, write_only=True)
    name = serializers.CharField(max_length=100, default="cli")


ASSET_SET_KINDS = [k.value for k in AssetSetKind]
