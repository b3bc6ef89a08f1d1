from django.apps import AppConfig


class WebappConfig(AppConfig):
    name = "webapp"
    verbose_name = "Projects, assets and jobs"

    def ready(self):
        # Job kinds register themselves when their module is imported.
        from django.db.models.signals import post_delete

        from webapp import previews  # noqa: F401
        from webapp.jobs import diagnostics  # noqa: F401
        from webapp.models import Asset
        from webapp.services.assets import delete_file_with_row

        post_delete.connect(delete_file_with_row, sender=Asset, dispatch_uid="asset-file")
