from django.urls import path

from deployments import views

app_name = "deployments"

urlpatterns = [
    path("", views.deployments_page, name="index"),
    path("targets/new/", views.add_target, name="add_target"),
    path("targets/<int:pk>/", views.edit_target, name="edit_target"),
    path("targets/<int:pk>/delete/", views.delete_target, name="delete_target"),
    path("targets/<int:pk>/forget-host-key/", views.forget_host_key, name="forget_host_key"),
    path(
        "targets/<int:pk>/certificates/<int:certificate_pk>/secret.yaml",
        views.kubernetes_manifest,
        name="kubernetes_manifest",
    ),
    path("deploy/", views.deploy, name="deploy"),
    path("jobs/<int:pk>/", views.job, name="job"),
    path("steps/<int:pk>/retry/", views.retry_step, name="retry_step"),
]
