import pytest
from django.db import connection


@pytest.mark.django_db
def test_healthz_reports_database_and_broker_up(client):
    # Given a running database and broker
    # When a load balancer asks for health
    response = client.get("/healthz")
    # Then it answers 200 with the state of each
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_naming_the_database_when_it_is_down(client, monkeypatch):
    # Given a database that refuses queries
    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    # When health is asked for
    response = client.get("/healthz")
    # Then it answers 503 and names the database
    assert response.status_code == 503
    assert response.json()["database"] == "down"
    assert response.json()["broker"] == "ok"


def test_healthz_answers_503_naming_the_broker_when_it_is_down(client, monkeypatch):
    # Given a broker that cannot be reached (nothing listens on port 1)
    from kombu import Connection

    from cio_project import health

    monkeypatch.setattr(health, "database_state", lambda: "ok")
    monkeypatch.setattr(
        health.celery_app, "connection_for_write", lambda: Connection("redis://127.0.0.1:1/0")
    )
    # When health is asked for
    response = client.get("/healthz")
    # Then it answers 503 and names the broker
    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "ok", "broker": "down"}
