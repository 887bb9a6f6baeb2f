from django import forms
from django.utils.translation import gettext_lazy as _


class DigestForm(forms.Form):
    daily_digest = forms.BooleanField(
        required=False, label=_("Send me a daily digest e-mail"),
        help_text=_("One e-mail each morning with your deadlines and unread notifications, "
                    "instead of an e-mail for each notification. It names cases by their "
                    "number, never a person."))
