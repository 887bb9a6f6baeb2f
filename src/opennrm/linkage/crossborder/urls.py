app_name = "crossborder"

urlpatterns: list = []
