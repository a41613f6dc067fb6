from django.contrib.admin.apps import AdminConfig


class RelayAdminConfig(AdminConfig):
    """The admin app with the project's site as `admin.site`, so every `admin.site.register` lands on it."""

    default_site = "cio_project.admin_site.RelayAdminSite"
