"""Protection pages: the timeline on the case page."""


def protection_context(user, case) -> dict:
    """What the case page's Protection and Proceedings sections show to `user`."""
    return {}
