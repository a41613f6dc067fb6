"""Output shared by the provisioning commands: text for people, --json for scripts."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

# argparse and CommandError both use 2 for "you asked for something wrong".
USAGE_ERROR = 2


def add_json_flag(parser) -> None:
    parser.add_argument(
        "--json", dest="as_json", action="store_true", help="print the result as one JSON object"
    )


def emit(command: BaseCommand, data: dict[str, Any], text: str, as_json: bool) -> None:
    command.stdout.write(json.dumps(data) if as_json else text)


def usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=USAGE_ERROR)
