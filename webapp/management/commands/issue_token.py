from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from webapp.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user (optionally creating the user) and print the key."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="Name of the token.")
        parser.add_argument("--create-user", action="store_true", help="Create the user if missing.")
        parser.add_argument("--password", default=None, help="Password for a created user.")

    def handle(self, username, name, create_user, password, **options):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            if not create_user:
                raise CommandError(f"No user {username!r}; pass --create-user to create one.")
            user = User.objects.create_user(username=username, password=password)
        _, key = ApiToken.issue(user, name)
        self.stdout.write(key)
