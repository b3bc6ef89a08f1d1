from django.apps import AppConfig


class SuperresConfig(AppConfig):
    name = "superres"

    def ready(self):
        from django.db.models.signals import post_delete

        from superres import jobs  # noqa: F401  (registers the job kinds)
        from superres.models import ProjectModel
        from webapp.services.assets import delete_file_with_row

        post_delete.connect(delete_file_with_row, sender=ProjectModel, dispatch_uid="project-model-file")
