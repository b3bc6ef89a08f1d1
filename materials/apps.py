from django.apps import AppConfig


class MaterialsConfig(AppConfig):
    name = "materials"

    def ready(self):
        from materials import jobs  # noqa: F401  (registers the job kinds)
