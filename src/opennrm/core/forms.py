"""Form helpers shared by every app's pages."""

from html import escape

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show the service's messages next to the fields they name (others in the summary)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class QuickSelect(forms.Select):
    """A single-choice <select> rendered in Python instead of one template per <option>.

    Same HTML as Django's Select for flat choices (no option groups); used where a page
    renders many selects on every request, such as the case list's filters.
    """

    def render(self, name, value, attrs=None, renderer=None):
        final_attrs = self.build_attrs(self.attrs, attrs)
        chosen = {str(item) for item in self.format_value(value)}
        # `html.escape` is what Django's `escape` calls, without its lazy-string wrapper.
        options = "".join(
            f'<option value="{escape(str(code))}"{" selected" if str(code) in chosen else ""}>'
            f"{escape(str(label))}</option>" for code, label in self.choices)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final_attrs),
                           mark_safe(options))  # noqa: S308 - every value is escaped
