from django.core.management.base import BaseCommand

from integrations.idempotency import purge_expired


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than IDEMPOTENCY_KEY_HOURS (they are ignored anyway)."

    def handle(self, *args, **options):
        self.stdout.write(f"deleted {purge_expired()} expired idempotency keys")
