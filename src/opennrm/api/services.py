"""/api/services: routes of the services app (filled in by its issue)."""

from ninja import Router

router = Router(tags=["services"])
