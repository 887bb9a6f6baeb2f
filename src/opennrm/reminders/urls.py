from django.urls import path

from opennrm.reminders import views

urlpatterns = [
    path("deadlines/", views.deadline_list, name="deadline-list"),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/settings/", views.notification_settings, name="notification-settings"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    path("notifications/<int:notification_id>/", views.notification_open,
         name="notification-open"),
    path("notifications/<int:notification_id>/read/", views.notification_read,
         name="notification-read"),
]
