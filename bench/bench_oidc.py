"""OpenID Connect provider: client-credentials token issuance and bearer-token validation.

Target (SSO issue): ≥ 500 client-credentials tokens/s per core. Each issuance goes through the
whole stack in one process (one core): the token endpoint via Django's test client with every
middleware, HTTP Basic client authentication (salted HMAC-SM3 secret check), the scope policy,
the token row (stored as its SHA-256 only) and its audit record.
Usage: python bench/bench_oidc.py [--tokens N] [--clients N] [--existing N]
(DATABASE_URL selects PostgreSQL)
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import secrets
import time

from _setup import django_on_fresh_database, machine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=4000, help="tokens to issue per round")
    parser.add_argument("--clients", type=int, default=200, help="registered machine clients")
    parser.add_argument(
        "--existing", type=int, default=200_000, help="tokens already stored for round two"
    )
    args = parser.parse_args()
    vendor = django_on_fresh_database("oidc")

    from django.test import Client, RequestFactory
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    from zwfw.core.models import AuditRecord
    from zwfw.sso import services
    from zwfw.sso.tokens import client_for_bearer

    access_token_model = get_access_token_model()
    print(f"machine: {machine()}; database: {vendor}")

    clients = [
        services.create_client(
            name=f"业务系统{i:04d}",
            grant=services.GRANT_CLIENT_CREDENTIALS,
            confidential=True,
            scopes=["registry.population.verify"],
        )
        for i in range(args.clients)
    ]
    headers = [
        "Basic " + base64.b64encode(f"{c.client_id}:{c.client_secret}".encode()).decode()
        for c in clients
    ]
    browser = Client(HTTP_HOST="127.0.0.1")

    def issue(count: int) -> tuple[float, list[str]]:
        tokens = []
        started = time.perf_counter()
        for i in range(count):
            response = browser.post(
                "/oauth/token/",
                "grant_type=client_credentials",
                content_type="application/x-www-form-urlencoded",
                HTTP_AUTHORIZATION=headers[i % len(headers)],
            )
            if response.status_code != 200:
                raise SystemExit(f"token endpoint answered {response.status_code}")
            tokens.append(response.json()["access_token"])
        return time.perf_counter() - started, tokens

    issue(50)  # warm-up: imports, caches, prepared statements
    stored = access_token_model.objects.count()
    elapsed, tokens = issue(args.tokens)
    print(
        f"client-credentials tokens via the token endpoint: {args.tokens:,} in {elapsed:.2f} s "
        f"= {args.tokens / elapsed:,.0f} tokens/s "
        f"({args.clients} clients, {stored:,} tokens stored before, "
        f"{AuditRecord.objects.count():,} audit records after)"
    )

    if args.existing:
        application = clients[0].application
        expires = timezone.now() + dt.timedelta(hours=1)
        batch = []
        for _ in range(args.existing):
            token = access_token_model(application=application, scope="x", expires=expires)
            token.token = secrets.token_urlsafe(22)
            batch.append(token)
            if len(batch) == 5000:
                access_token_model.objects.bulk_create(_checksummed(batch))
                batch = []
        if batch:
            access_token_model.objects.bulk_create(_checksummed(batch))
        stored = access_token_model.objects.count()
        elapsed, tokens = issue(args.tokens)
        print(
            f"client-credentials tokens via the token endpoint: {args.tokens:,} in {elapsed:.2f} s "
            f"= {args.tokens / elapsed:,.0f} tokens/s ({stored:,} tokens stored before)"
        )

    factory = RequestFactory(HTTP_HOST="127.0.0.1")
    requests = [
        factory.get("/api/v1/registries/x", HTTP_AUTHORIZATION=f"Bearer {token}")
        for token in tokens
    ]
    started = time.perf_counter()
    for request in requests:
        if client_for_bearer(request) is None:
            raise SystemExit("a fresh token did not validate")
    elapsed = time.perf_counter() - started
    print(
        f"client_for_bearer: {len(requests):,} validations in {elapsed:.2f} s "
        f"= {len(requests) / elapsed:,.0f} /s "
        f"({access_token_model.objects.count():,} tokens stored)"
    )


def _checksummed(tokens: list) -> list:
    """bulk_create skips pre_save: fill the lookup checksum as a save would."""
    import hashlib

    for token in tokens:
        token.token_checksum = hashlib.sha256(token.token.encode()).hexdigest()
        token.token = ""
    return tokens


if __name__ == "__main__":
    main()
