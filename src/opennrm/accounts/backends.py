"""Authentication backend: Django's, with the user's agency loaded in the same query."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class AgencyModelBackend(ModelBackend):
    """Every signed-in page shows the user's agency and permission checks read its type:
    load it with the user (one query per request instead of two)."""

    def get_user(self, user_id):
        try:
            user = get_user_model()._default_manager.select_related("agency").get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
