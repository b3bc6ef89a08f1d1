from django.apps import AppConfig


class WebappConfig(AppConfig):
    name = "webapp"
    verbose_name = "Projects, assets and jobs"

    def ready(self):
        # Job kinds register themselves when their module is imported.
        from webapp import previews  # noqa: F401
        from webapp.jobs import diagnostics  # noqa: F401
