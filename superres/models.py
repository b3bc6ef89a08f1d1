"""Per-project fine-tuned super-resolution models."""

import uuid

from django.db import models


def model_upload_path(instance: "ProjectModel", filename: str) -> str:
    return f"projects/{instance.project_id}/models/superres-x{instance.scale}-{instance.id}.pt"


class ProjectModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("webapp.Project", on_delete=models.CASCADE, related_name="superres_models")
    scale = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200, blank=True, default="")
    file = models.FileField(upload_to=model_upload_path, max_length=400)
    job = models.ForeignKey("webapp.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    report = models.JSONField(default=dict, blank=True)
    byte_size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["project", "scale"])]
