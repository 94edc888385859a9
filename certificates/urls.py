from django.urls import path

from certificates import views

app_name = "certificates"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("upload/", views.upload, name="upload"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/expiry-warnings/", views.expiry_warnings, name="expiry_warnings"),
]
