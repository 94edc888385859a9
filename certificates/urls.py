from django.urls import path
from django.views.generic import RedirectView

from certificates import views

app_name = "certificates"

urlpatterns = [
    path("", views.overview, name="overview"),
    # Placeholder for the details page being built on main; replaced at merge.
    path("<int:pk>/", RedirectView.as_view(url="/certificates/"), name="detail"),
]
