"""Upload a flash/guide pair and start a capture job in one request."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from materials.jobs import TwoShotParams
from webapp.api.serializers import JobSerializer
from webapp.api.views import ProjectScoped
from webapp.services import jobs as job_service
from webapp.services.uploads import store_uploads


class CaptureUploadSerializer(TwoShotParams):
    flash = serializers.FileField(help_text="Photo with the flash on.")
    guide = serializers.FileField(help_text="Photo of the same area without flash.")
    name = serializers.CharField(required=False, max_length=200, help_text="Name of the upload set.")


class CaptureUpload(ProjectScoped, APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=CaptureUploadSerializer, responses={202: JobSerializer})
    def post(self, request, project_id):
        form = CaptureUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        flash, guide = data.pop("flash"), data.pop("guide")
        name = data.pop("name", "") or f"Capture {flash.name}"
        asset_set, (flash_asset, guide_asset) = store_uploads(self.project, [flash, guide], ["flash", "guide"],
                                                              set_name=name)
        job = job_service.create_job(self.project, request.user, "material.two_shot", data,
                                     {"flash": str(flash_asset.id), "guide": str(guide_asset.id)})
        body = JobSerializer(job).data
        return Response(body, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": request.build_absolute_uri(body["url"])})
