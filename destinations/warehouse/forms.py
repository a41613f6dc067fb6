"""The warehouse source form: the connection URL is write-only, as a destination's API key is.

The stored URL never goes back to the browser (the input renders no value, the form holds no initial
value); the help text says where it points without its user or password, and an empty input on an
existing source keeps it.
"""

from __future__ import annotations

from typing import Any

from django import forms

from destinations.models import Destination
from destinations.warehouse.connection import describe, validate_connection_url
from destinations.warehouse.models import WarehouseSource

URL_HELP = WarehouseSource._meta.get_field("connection_url").help_text


class WarehouseSourceForm(forms.ModelForm):
    connection_url = forms.CharField(
        label="Connection URL",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 60}),
    )
    destinations = forms.ModelMultipleChoiceField(
        queryset=Destination.objects.only("id", "name").order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The Customer.io destinations its rows go to.",
    )

    class Meta:
        model = WarehouseSource
        fields = "__all__"
        widgets = {"query": forms.Textarea(attrs={"rows": 8, "cols": 80, "spellcheck": "false"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stored_url = self.instance.connection_url if self.instance.pk else ""
        self.initial["connection_url"] = ""
        field = self.fields["connection_url"]
        field.required = not self.stored_url
        field.help_text = URL_HELP
        if self.stored_url:
            field.help_text = f"Set: {describe(self.stored_url)}. Leave empty to keep it. {URL_HELP}"
            self.initial["destinations"] = list(
                self.instance.source.destinations.values_list("pk", flat=True)
            )

    def clean_connection_url(self) -> str:
        url = self.cleaned_data.get("connection_url") or ""
        if not url.strip():
            return self.stored_url
        validate_connection_url(url)
        return url.strip()

    def save(self, commit: bool = True) -> WarehouseSource:
        warehouse = super().save(commit=commit)
        if commit:
            self.save_destinations()
        return warehouse

    def save_destinations(self) -> None:
        self.instance.source.destinations.set(self.cleaned_data.get("destinations") or [])
