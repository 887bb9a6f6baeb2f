class NoStoreMiddleware:
    """Keep pages of signed-in users out of browser and proxy caches.

    A shared computer's back button or disk cache must not show a person's case to the
    next user.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            response["Cache-Control"] = "no-store"
        return response
