"""The delivery log's admin pages: the log and a delivery's page (log.py), and the delivery tools
(dashboards, the event tester) that cio_project/admin_site.py adds to the admin.

The log's ModelAdmin is registered by DeliveryConfig.ready(), not here: the admin site imports the
tools from this package, and registering here would import the site while it is being defined.
"""
