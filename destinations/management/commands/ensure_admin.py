import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Make sure an admin login exists. Takes DJANGO_SUPERUSER_USERNAME and DJANGO_SUPERUSER_PASSWORD "
        "from the environment; without them, creates 'admin' with a random password and prints it once."
    )

    def handle(self, *args, **options) -> None:
        users = get_user_model().objects
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        existing = users.filter(username=username).first()
        if existing is not None:
            if password:
                existing.set_password(password)
                existing.save(update_fields=["password"])
                self.stdout.write(f"Admin login {username!r}: password set from DJANGO_SUPERUSER_PASSWORD")
            else:
                self.stdout.write(
                    f"Admin login {username!r} exists (forgot the password? "
                    f"python manage.py changepassword {username})"
                )
            return
        generated = password is None
        password = password or secrets.token_urlsafe(12)
        users.create_superuser(username=username, email="", password=password)
        shown = password if generated else "(from DJANGO_SUPERUSER_PASSWORD)"
        self.stdout.write(f"Admin login created: user {username!r}, password {shown}")
