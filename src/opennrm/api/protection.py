"""/api/protection: routes of the protection app (filled in by its issue)."""

from ninja import Router

router = Router(tags=["protection"])
