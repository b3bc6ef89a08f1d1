from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Webhooks and idempotency keys"

    def ready(self):
        from integrations import services
        from webapp.signals import job_finished

        job_finished.connect(services.on_job_finished, dispatch_uid="integrations.webhooks")
