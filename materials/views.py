"""Upload a flash/guide pair and start a capture job in one request."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.views import APIView

from integrations import idempotency
from materials.jobs import TwoShotParams
from webapp.api.serializers import JobSerializer
from webapp.api.views import ProjectScoped, job_accepted
from webapp.services import jobs as job_service
from webapp.services.uploads import store_uploads


class CaptureUploadSerializer(TwoShotParams):
    flash = serializers.FileField(help_text="Photo with the flash on.")
    guide = serializers.FileField(help_text="Photo of the same area without flash.")
    name = serializers.CharField(required=False, max_length=200, help_text="Name of the upload set.")


class CaptureUpload(ProjectScoped, APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=CaptureUploadSerializer, responses={202: JobSerializer},
                   parameters=[idempotency.OPENAPI_PARAMETER])
    def post(self, request, project_id):
        form = CaptureUploadSerializer(data=request.data)
        unknown = sorted(set(request.data) - set(form.fields))
        if unknown:  # a misspelt field ("resolutoin") would otherwise be ignored
            raise ValidationError({"params": f"Unknown field(s) {unknown}; this request takes "
                                             f"{sorted(form.fields)}."})
        form.is_valid(raise_exception=True)
        job, replayed = idempotency.create_once(request, self.project, lambda: self._capture(form.validated_data))
        return job_accepted(request, job, replayed)

    def _capture(self, validated_data):
        """Store the photos and start the job (not done at all when an Idempotency-Key replays)."""
        data = dict(validated_data)
        flash, guide = data.pop("flash"), data.pop("guide")
        name = data.pop("name", "") or f"Capture {flash.name}"
        asset_set, (flash_asset, guide_asset) = store_uploads(self.project, [flash, guide], ["flash", "guide"],
                                                              set_name=name)
        try:
            return job_service.create_job(self.project, self.request.user, "material.two_shot", data,
                                          {"flash": str(flash_asset.id), "guide": str(guide_asset.id)})
        except ValidationError:
            # The photos were stored only to start this job: a refused job leaves nothing
            # (the files go with their rows). A queue that is down keeps them, as uploads do.
            asset_set.delete()
            raise
