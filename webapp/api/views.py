"""REST API v1: thin views over the access rules and the services."""

import tempfile
import unicodedata
import zipfile
from urllib.parse import quote

from django.contrib.auth import authenticate
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied, Throttled, ValidationError
from rest_framework.fields import empty
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import idempotency
from webapp.access import project_for, projects_for
from webapp.api import serializers as s
from webapp.api.errors import Conflict, ServiceUnavailable
from webapp.auth import record_login_failure, too_many_login_failures
from webapp.jobs import registry
from webapp.models import ApiToken, Asset, AssetSet, Job, JobStatus, Membership, Project, Role
from webapp.services import jobs as job_service
from webapp.services.uploads import store_uploads


class ProjectScoped:
    """Mixin: `self.project` for the URL's project_id, with the role each HTTP method needs."""

    read_role = Role.VIEWER
    write_role = Role.EDITOR

    def needed_role(self):
        return self.read_role if self.request.method in ("GET", "HEAD", "OPTIONS") else self.write_role

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Checked before any handler, OPTIONS included: another project's id answers 404 to every method.
        self.project  # noqa: B018

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "requester_role": self.membership.role}

    @property
    def project(self) -> Project:
        if not hasattr(self, "_project"):
            self._project, self.membership = project_for(self.request.user, self.kwargs["project_id"],
                                                         self.needed_role())
        return self._project


# -- projects and members ------------------------------------------------------------------

class ProjectList(generics.ListCreateAPIView):
    serializer_class = s.ProjectSerializer

    def get_queryset(self):
        qs = projects_for(self.request.user).prefetch_related("memberships")
        search = self.request.query_params.get("search")
        return qs.filter(Q(name__icontains=search) | Q(slug__icontains=search)) if search else qs

    def perform_create(self, serializer):
        with transaction.atomic():
            project = serializer.save()
            Membership.objects.create(project=project, user=self.request.user, role=Role.OWNER)


class ProjectDetail(ProjectScoped, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.ProjectSerializer
    write_role = Role.OWNER

    def get_object(self):
        return self.project


class MemberList(ProjectScoped, generics.ListCreateAPIView):
    serializer_class = s.MembershipSerializer
    write_role = Role.OWNER

    def get_queryset(self):
        return self.project.memberships.select_related("user")

    @extend_schema(request=s.AddMemberSerializer, responses={201: s.MembershipSerializer})
    def post(self, request, project_id):
        data = s.AddMemberSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = data.validated_data["username"]
        # An invitation: the user joins when they accept it (InvitationAccept).
        membership, created = Membership.objects.get_or_create(
            project=self.project, user=user,
            defaults={"role": data.validated_data["role"], "accepted": False, "invited_by": request.user},
        )
        if not created:
            if not membership.accepted:
                raise Conflict(f"{user.username} is already invited ({membership.role}).")
            raise Conflict(f"{user.username} is already a member ({membership.role}).")
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetail(ProjectScoped, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.MembershipSerializer
    write_role = Role.OWNER

    def needed_role(self):
        # Anyone may leave a project; changing others needs the owner role.
        if self.request.method == "DELETE" and self._targets_self():
            return Role.VIEWER
        return super().needed_role()

    def _targets_self(self):
        return Membership.objects.filter(pk=self.kwargs["member_id"], user=self.request.user).exists()

    def get_object(self):
        return get_object_or_404(self.project.memberships.select_related("user"), pk=self.kwargs["member_id"])

    def _ensure_an_owner_remains(self, membership, new_role=None):
        # Invited owners do not count until they accept.
        if membership.accepted and membership.role == Role.OWNER and new_role != Role.OWNER:
            if self.project.memberships.filter(role=Role.OWNER, accepted=True).count() <= 1:
                raise Conflict("A project needs at least one owner; make someone else owner first.")

    def perform_update(self, serializer):
        self._ensure_an_owner_remains(serializer.instance, serializer.validated_data.get("role"))
        serializer.save()

    def perform_destroy(self, membership):
        self._ensure_an_owner_remains(membership)
        membership.delete()


class InvitationList(generics.ListAPIView):
    """Your invitations to projects, not yet accepted."""

    serializer_class = s.InvitationSerializer

    def get_queryset(self):
        return (Membership.objects.filter(user=self.request.user, accepted=False)
                .select_related("project", "invited_by").order_by("-created_at", "id"))


class InvitationDetail(generics.DestroyAPIView):
    """DELETE declines an invitation (another user's invitation id answers 404)."""

    serializer_class = s.InvitationSerializer

    def get_object(self):
        return get_object_or_404(Membership, pk=self.kwargs["invitation_id"], user=self.request.user, accepted=False)


class InvitationAccept(APIView):
    @extend_schema(request=None, responses={200: s.ProjectSerializer})
    def post(self, request, invitation_id):
        """Join the project with the invited role; answers the project."""
        with transaction.atomic():
            membership = get_object_or_404(Membership.objects.select_for_update(), pk=invitation_id,
                                           user=request.user, accepted=False)
            membership.accepted = True
            membership.save(update_fields=["accepted"])
        project = projects_for(request.user).prefetch_related("memberships").get(pk=membership.project_id)
        return Response(s.ProjectSerializer(project, context={"request": request}).data)


# -- uploads, asset sets, assets --------------------------------------------------------------

class UploadView(ProjectScoped, APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=s.UploadSerializer, responses={201: s.UploadResultSerializer},
                   parameters=[idempotency.OPENAPI_PARAMETER])
    def post(self, request, project_id):
        form = s.UploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        asset_set = None
        if data.get("set"):
            asset_set = AssetSet.objects.filter(project=self.project, pk=data["set"]).first()
            if asset_set is None:
                raise ValidationError({"set": "No asset set with this id in this project."})
        (asset_set, assets, previews_job), replayed = idempotency.upload_once(
            request, self.project, lambda: self._store(request, data, asset_set))
        body = {
            "set": s.AssetSetSerializer(asset_set, context={"request": request}).data,
            "assets": s.AssetSerializer(assets, many=True).data,
            "previews_job": str(previews_job.id) if previews_job else None,
        }
        response = Response(body, status=status.HTTP_201_CREATED)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    def _store(self, request, data, asset_set):
        asset_set, assets = store_uploads(self.project, data["files"], data["roles"], asset_set=asset_set,
                                          set_name=data.get("name", ""), tags=data["tags"],
                                          colour_space=data.get("colour_space"))
        previews_job = None
        if data["previews"]:
            try:
                previews_job = job_service.create_job(self.project, request.user, "previews",
                                                      {}, {"assets": [str(a.id) for a in assets]})
            except ServiceUnavailable:
                pass  # the upload itself is stored; previews can be requested again later
        return asset_set, assets, previews_job


def _with_assets(qs):
    return qs.prefetch_related(Prefetch("assets", queryset=Asset.objects.prefetch_related("derived")))


class AssetSetList(ProjectScoped, generics.ListAPIView):
    serializer_class = s.AssetSetSerializer

    @extend_schema(parameters=[
        OpenApiParameter("kind", str, description="One kind or several, comma-separated."),
        OpenApiParameter("exclude_kind", str, description="Kinds to leave out, comma-separated."),
        OpenApiParameter("tag", str),
        OpenApiParameter("search", str, description="Part of the set name."),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = _with_assets(self.project.asset_sets.all())
        params = self.request.query_params
        for name, include in (("kind", True), ("exclude_kind", False)):
            if params.get(name):
                kinds = params[name].split(",")
                if set(kinds) - set(s.ASSET_SET_KINDS):
                    raise ValidationError({name: f"Unknown kind; one of {', '.join(s.ASSET_SET_KINDS)}."})
                qs = qs.filter(kind__in=kinds) if include else qs.exclude(kind__in=kinds)
        for tag in params.getlist("tag"):
            qs = qs.filter(tag_index__contains=f"|{tag}|")
        if params.get("search"):
            qs = qs.filter(name__icontains=params["search"])
        return qs


class AssetSetDetail(ProjectScoped, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = s.AssetSetDetailSerializer

    def get_object(self):
        return get_object_or_404(_with_assets(self.project.asset_sets.all()), pk=self.kwargs["set_id"])



class AssetSetDownload(ProjectScoped, APIView):
    @extend_schema(responses={(200, "application/zip"): bytes})
    def get(self, request, project_id, set_id):
        asset_set = get_object_or_404(self.project.asset_sets.prefetch_related("assets"), pk=set_id)
        # Spooled: small sets stay in memory, big ones go to a temporary file, never both.
        archive = tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024)
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
            for asset in asset_set.assets.all():
                with default_storage.open(asset.file.name, "rb") as src, zf.open(asset.name, "w") as dst:
                    for chunk in iter(lambda: src.read(1024 * 1024), b""):
                        dst.write(chunk)
        archive.seek(0)
        filename = f"{_safe_filename(asset_set.name) or 'assets'}-{str(asset_set.id)[:8]}.zip"
        return _attachment(FileResponse(archive, content_type="application/zip"), filename)


def _filename_chars(name: str) -> str:
    """Letters, digits, '-', '_' and '.' kept, anything else '_', no leading/trailing dot or '_'."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._")


def _safe_filename(name: str) -> str:
    return _filename_chars(name)[:80]


def _attachment(response: FileResponse, filename: str) -> FileResponse:
    """Content-Disposition with an ASCII `filename` for every client (curl -J, older tools
    read only that) and the exact UTF-8 name in `filename*` (RFC 6266) when it differs."""
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = _filename_chars(folded) or "download"
    if "." in filename and "." not in ascii_name:
        ascii_name += "." + filename.rsplit(".", 1)[1].encode("ascii", "ignore").decode()
    header = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    response["Content-Disposition"] = header
    return response


class AssetList(ProjectScoped, generics.ListAPIView):
    serializer_class = s.AssetSerializer

    @extend_schema(parameters=[OpenApiParameter("role", str), OpenApiParameter("set", str),
                               OpenApiParameter("kind", str, description="Kind of the asset's set.")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = Asset.objects.filter(asset_set__project=self.project).select_related("asset_set")
        qs = qs.prefetch_related("derived").order_by("-created_at", "id")
        params = self.request.query_params
        if params.get("role"):
            qs = qs.filter(role=params["role"])
        if params.get("set"):
            qs = qs.filter(asset_set_id=_uuid_param(params["set"], "set"))
        if params.get("kind"):
            qs = qs.filter(asset_set__kind=params["kind"])
        return qs


def _uuid_param(value, name):
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationError({name: "Not a valid id."}) from None


class AssetDetail(ProjectScoped, generics.RetrieveDestroyAPIView):
    serializer_class = s.AssetSerializer

    def get_object(self):
        qs = Asset.objects.filter(asset_set__project=self.project).select_related("asset_set")
        return get_object_or_404(qs.prefetch_related("derived"), pk=self.kwargs["asset_id"])



class AssetDownload(AssetDetail):
    http_method_names = ["get", "head", "options"]

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, project_id, asset_id):
        asset = self.get_object()
        content_types = {"png": "image/png", "jpeg": "image/jpeg", "tiff": "image/tiff",
                         "webp": "image/webp", "heic": "image/heic", "dng": "image/x-adobe-dng",
                         "exr": "image/x-exr", "tga": "image/x-tga", "dds": "image/vnd-ms.dds",
                         "gltf": "model/gltf+json", "glb": "model/gltf-binary",
                         "bin": "application/octet-stream", "json": "application/json"}
        response = _attachment(FileResponse(default_storage.open(asset.file.name, "rb"),
                                            content_type=content_types.get(asset.format)), asset.name)
        response["ETag"] = f'"{asset.sha256}"'
        return response


# -- jobs -----------------------------------------------------------------------------------

class JobList(ProjectScoped, generics.ListAPIView):
    serializer_class = s.JobSerializer

    @extend_schema(parameters=[OpenApiParameter("status", str), OpenApiParameter("kind", str)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = self.project.jobs.all()
        params = self.request.query_params
        # Unknown values answer 400 (as the set list's kinds do), not a silently empty list.
        for status_value in params.getlist("status"):
            statuses = status_value.split(",")
            if set(statuses) - set(JobStatus.values):
                raise ValidationError({"status": f"Unknown status; one of {', '.join(JobStatus.values)}."})
            qs = qs.filter(status__in=statuses)
        if params.get("kind"):
            if params["kind"] not in {k.name for k in registry.all_kinds()}:
                raise ValidationError({"kind": f"Unknown job kind {params['kind']!r}."})
            qs = qs.filter(kind=params["kind"])
        return qs

    @extend_schema(request=s.JobCreateSerializer, responses={202: s.JobSerializer},
                   parameters=[idempotency.OPENAPI_PARAMETER])
    def post(self, request, project_id):
        data = s.JobCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job, replayed = idempotency.create_once(request, self.project, lambda: job_service.create_job(
            self.project, request.user, data.validated_data["kind"],
            data.validated_data["params"], data.validated_data["inputs"]))
        return job_accepted(request, job, replayed)


def job_accepted(request, job: Job, replayed: bool = False) -> Response:
    """202 with the job and its Location; a replayed Idempotency-Key says so in a header."""
    body = s.JobSerializer(job).data
    headers = {"Location": request.build_absolute_uri(body["url"])}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(body, status=status.HTTP_202_ACCEPTED, headers=headers)


class JobDetail(ProjectScoped, generics.RetrieveAPIView):
    serializer_class = s.JobSerializer

    def get_object(self):
        return get_object_or_404(self.project.jobs.all(), pk=self.kwargs["job_id"])


class JobCancel(JobDetail):
    @extend_schema(request=None, responses={200: s.JobSerializer, 409: None})
    def post(self, request, project_id, job_id):
        job = job_service.cancel_job(self.get_object())
        return Response(s.JobSerializer(job).data)


class JobKindList(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request):
        kinds = []
        for kind in registry.all_kinds():
            params = {}
            for name, field in kind.params().fields.items():
                params[name] = {
                    "type": type(field).__name__.replace("Field", "").lower(),
                    "required": field.required,
                    "default": None if field.default is empty else field.default,
                    "min": getattr(field, "min_value", None), "max": getattr(field, "max_value", None),
                    "choices": list(field.choices) if hasattr(field, "choices") else None,
                    "help": str(field.help_text or ""),
                }
            kinds.append({
                "kind": kind.name, "title": kind.title, "queue": kind.queue, "time_limit_s": kind.time_limit_s,
                "max_attempts": kind.max_attempts, "output_kind": kind.output_kind, "params": params,
                "inputs": {n: {"kind": i.kind, "many": i.many, "required": i.required, "help": i.help}
                           for n, i in kind.inputs.items()},
            })
        return Response({"results": kinds})


# -- tokens and identity --------------------------------------------------------------------------

class TokenList(generics.ListCreateAPIView):
    serializer_class = s.TokenSerializer

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user)

    @extend_schema(request=s.TokenSerializer, responses={201: s.NewTokenSerializer})
    def post(self, request):
        data = s.TokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, key = ApiToken.issue(request.user, data.validated_data["name"])
        token.key = key
        return Response(s.NewTokenSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenDetail(generics.RetrieveDestroyAPIView):
    serializer_class = s.TokenSerializer

    def get_object(self):
        return get_object_or_404(ApiToken.objects.filter(user=self.request.user), pk=self.kwargs["token_id"])

    def perform_destroy(self, token):
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])


class LoginToken(APIView):
    """Exchange a username and password for a new named API token (for command-line clients)."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.LoginTokenSerializer, responses={201: s.NewTokenSerializer})
    def post(self, request):
        data = s.LoginTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if too_many_login_failures(request):
            raise Throttled(wait=60, detail="Too many wrong passwords from this address; try again in a minute.")
        user = authenticate(request, username=data.validated_data["username"],
                            password=data.validated_data["password"])
        if user is None:
            record_login_failure(request)
            raise PermissionDenied("Wrong username or password.")
        token, key = ApiToken.issue(user, data.validated_data["name"])
        token.key = key
        return Response(s.NewTokenSerializer(token).data, status=status.HTTP_201_CREATED)


class Me(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request):
        user = request.user
        return Response({"id": user.id, "username": user.username, "email": user.email})
