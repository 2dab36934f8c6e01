"""Parallel clients reading and writing personal data (orders) through the real app.

Used in-process by the concurrency tests and as a script (`python concurrent_clients.py URL VAR USER PASSWORD N`)
for a second server process sharing the same SQLite file. Prints one JSON line: statuses seen and how many
requests should have written an audit row.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

AUDITED_OK = {200, 201}


def order_document() -> dict[str, Any]:
    from openem.orders.samples import sample_order

    doc = sample_order(datetime.now(UTC))
    doc.pop("ref", None)
    return doc


def signed_in_client(app: Any, username: str, password: str) -> Any:
    from fastapi.testclient import TestClient

    c = TestClient(app, follow_redirects=True, raise_server_exceptions=False)
    page = c.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    r = c.post(
        "/sign-in", data={"username": username, "password": password, "csrf_token": token, "next": "/"}
    )
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)
    return c


def one_client(client: Any, rounds: int, statuses: Counter, lock: threading.Lock) -> None:
    """Each round: create an order (write), read it (personal data), list orders (personal data)."""
    seen = []
    for _ in range(rounds):
        r = client.post("/api/orders", json=order_document())
        seen.append(r.status_code)
        if r.status_code == 201:
            ref = r.json()["ref"]
            seen.append(client.get(f"/api/orders/{ref}").status_code)
        seen.append(client.get("/api/orders?limit=5").status_code)
    with lock:
        statuses.update(seen)


def run_clients(app: Any, username: str, password: str, threads: int, rounds: int) -> Counter:
    clients = [signed_in_client(app, username, password) for _ in range(threads)]
    statuses: Counter = Counter()
    lock = threading.Lock()
    workers = [threading.Thread(target=one_client, args=(c, rounds, statuses, lock)) for c in clients]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return statuses


def main(argv: list[str]) -> int:
    from pathlib import Path

    from openem.config import load_settings
    from openem.server import create_app
    from openem.store.db import Database

    url, var, username, password, rounds = argv[1], argv[2], argv[3], argv[4], int(argv[5])
    settings = load_settings(
        {
            "OPENEM_DATABASE_URL": url,
            "OPENEM_VAR_DIR": str(Path(var)),
            "OPENEM_SECRET_KEY": "concurrency-test-secret",
        }
    )
    db = Database(url)
    app = create_app(settings, db, start_dispatcher=False)
    statuses = run_clients(app, username, password, threads=3, rounds=rounds)
    print(json.dumps({str(k): v for k, v in statuses.items()}))
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
