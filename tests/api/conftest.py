import pytest
from django.test import Client

from api import tokens


class ApiClient:
    """A client that sends a bearer token and no session."""

    def __init__(self, secret: str | None):
        self.client = Client(raise_request_exception=False)
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def get(self, path: str, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.client.delete(f"/api/v1{path}", headers=self.headers, **kwargs)

    def post(self, path: str, data=None, *, headers: dict | None = None):
        return self.client.post(
            f"/api/v1{path}",
            data=data or {},
            content_type="application/json",
            headers={**self.headers, **(headers or {})},
        )

    def put(self, path: str, data=None):
        return self.client.put(
            f"/api/v1{path}", data=data or {}, content_type="application/json", headers=self.headers
        )


def token_client(user, scope: str, label: str | None = None) -> ApiClient:
    _, secret = tokens.create_api_token(owner=user, label=label or f"{scope}-token", scope=scope)
    return ApiClient(secret)


@pytest.fixture
def read_api(customer) -> ApiClient:
    return token_client(customer, "read")


@pytest.fixture
def write_api(customer) -> ApiClient:
    return token_client(customer, "write", label="ci-deploy")


@pytest.fixture
def other_api(other_customer) -> ApiClient:
    return token_client(other_customer, "write")


@pytest.fixture
def anonymous_api() -> ApiClient:
    return ApiClient(None)
