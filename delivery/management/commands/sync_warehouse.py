import json
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cio_project.log_redaction import redact
from delivery.warehouse.sync import AlreadyRunning, sync
from destinations.warehouse.models import SyncRun, WarehouseSource

FAILED = 2


class Command(BaseCommand):
    help = (
        "Sync a warehouse source now: store its new, changed and (mirror mode) removed rows for delivery. "
        "--dry-run shows the counts and sample requests and changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="the warehouse source's name")
        parser.add_argument("--dry-run", action="store_true", help="count and show samples; store nothing")

    def handle(self, *args, name: str, dry_run: bool, **options) -> None:
        source = WarehouseSource.objects.filter(name=name).first()
        if source is None:
            raise CommandError(f"no warehouse source named {name!r}", returncode=FAILED)
        # The bar goes to stderr, and only on a terminal: scripts read the summary line alone.
        with tqdm(unit=" rows", disable=not sys.stderr.isatty(), file=sys.stderr, desc=name) as bar:

            def progress(run: SyncRun) -> None:
                bar.total = run.rows_total
                bar.n = run.rows_read + run.rows_removed
                bar.set_postfix(
                    new=run.rows_new, changed=run.rows_changed, failed=run.rows_failed, refresh=False
                )
                bar.refresh()

            try:
                run = sync(source, dry_run=dry_run, progress=progress)
            except AlreadyRunning as error:
                raise CommandError(str(error), returncode=FAILED) from None
            except Exception as error:
                # The run is marked failed; the terminal gets one line (--traceback shows the rest).
                message = " ".join(redact(str(error)).split())
                raise CommandError(
                    f"sync of {name!r} failed: {type(error).__name__}: {message}", returncode=FAILED
                ) from error
        if dry_run:
            for sample in run.samples:
                self.stdout.write(json.dumps(sample, ensure_ascii=False, default=str))
        for failure in run.failures:
            self.stdout.write(
                f"row {failure['row'] or '?'} ({failure['identifier']}) failed: {failure['reason']}"
            )
        if run.state == SyncRun.State.FAILED:
            raise CommandError(f"run {run.pk} failed: {run.error}", returncode=FAILED)
        self.stdout.write(summary(run))


def summary(run: SyncRun) -> str:
    what = "dry run" if run.dry_run else "run"
    return (
        f"{what} {run.pk} of {run.warehouse_source.name!r}: {run.rows_read} rows read, {run.rows_new} new, "
        f"{run.rows_changed} changed, {run.rows_removed} removed, {run.rows_unchanged} unchanged, "
        f"{run.rows_failed} failed; {run.events_stored} events stored"
    )
