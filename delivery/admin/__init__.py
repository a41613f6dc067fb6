"""The delivery log's admin pages: the log and a delivery's page (log.py), the delivery tools
(dashboards, the event tester) and a source's live events (live_events.py) that
cio_project/admin_site.py adds to the admin, and what a source's own pages show of its activity
(source_activity.py).

The ModelAdmins are registered by DeliveryConfig.ready(), not here: the admin site imports the
tools from this package, and registering here would import the site while it is being defined.
"""
