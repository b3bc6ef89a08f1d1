from django.apps import AppConfig


class TexturesConfig(AppConfig):
    name = "textures"

    def ready(self):
        from textures import jobs  # noqa: F401  (registers the job kinds)
