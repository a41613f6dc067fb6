"""The two ways a message can fail to become a Customer.io request.

An instrumentation error means the event is wrong (fix the tracking code); a configuration error means
the destination is wrong (fix its settings). Neither is worth retrying.
"""

from __future__ import annotations


class TransformError(Exception):
    """A message that cannot be sent; `message` says why and names the field to blame."""

    kind: str = "instrumentation"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def title(self) -> str:
        """How the delivery log and the event tester name it: "Instrumentation error"."""
        return f"{self.kind.capitalize()} error"

    def to_dict(self) -> dict[str, str]:
        return {"message": self.message, "kind": self.kind}


class InstrumentationError(TransformError):
    kind = "instrumentation"


class ConfigurationError(TransformError):
    kind = "configuration"
