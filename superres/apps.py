from django.apps import AppConfig


class SuperresConfig(AppConfig):
    name = "superres"

    def ready(self):
        from superres import jobs  # noqa: F401  (registers the job kinds)
