import json

from django.core.management.base import BaseCommand

from cio_project.times import exact_time
from delivery.admin.timeline import LIMIT, timeline


class Command(BaseCommand):
    help = (
        "Print one person's timeline across destinations (events, deliveries and Customer.io's answers, "
        "message activity), oldest first: the admin's person page, for scripts and support tooling."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("id", help="a user id, anonymous id, email address or Customer.io cio_id")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="one JSON object a line, one per entry"
        )

    def handle(self, *args, **options) -> None:
        story = timeline(options["id"])
        for kind in story.cut:
            self.stderr.write(f"more than {LIMIT} {kind}: only the newest {LIMIT} are printed")
        if options["as_json"]:
            for entry in story.entries:
                self.stdout.write(json.dumps(entry.as_json(), ensure_ascii=False))
            return
        if not story.entries:
            self.stdout.write(f"Nothing is stored about {options['id']!r}.")
            return
        for entry in story.entries:
            when = exact_time(entry.time)
            where = f" [{entry.destination}]" if entry.destination else ""
            self.stdout.write(f"{when} {entry.kind}{where}: {entry.summary}")
            for step in entry.steps if entry.kind == "delivery" else ():
                self.stdout.write(f"    {step.words}")
