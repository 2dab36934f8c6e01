"""End-to-end: the real server (uvicorn, `openem serve`) in a subprocess, driven by headless Chromium."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, base: str, passwords: dict[str, str], env: dict[str, str], db_url: str) -> None:
        self.base = base
        self.passwords = passwords
        self.env = env
        self.db_url = db_url


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from openem.platform_cli import seed_demo_users
    from openem.store.db import Database
    from openem.store.migrate import upgrade

    var = tmp_path_factory.mktemp("e2e-var")
    db_url = f"sqlite:///{var / 'openem.db'}"
    upgrade(db_url)
    db = Database(db_url)
    passwords = {u: p for u, _, p in seed_demo_users(db)}
    db.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "OPENEM_VAR_DIR": str(var),
        "OPENEM_DATABASE_URL": db_url,
        "OPENEM_SECRET_KEY": "e2e-secret-" + os.urandom(8).hex(),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "openem.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(var / "server.log", "w"),
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + (var / "server.log").read_text()[-2000:])
        time.sleep(0.1)
    yield Server(base, passwords, env, db_url)
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium missing: scripts/test.sh installs it")
        pytest.skip("no Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(bypass_csp=True, viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


def sign_in(page: Any, server: Server, username: str) -> None:
    page.goto(server.base + "/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(server.passwords[username])
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Sign in").click()
    assert "/sign-in" not in page.url, page.locator("main").inner_text()[:500]
    if "/change-password" in page.url:
        choose_new_password(page, server, username)


def choose_new_password(page: Any, server: Server, username: str) -> None:
    """The demo's one-off passwords (and reset or temporary ones) lead to "Choose a new password" first: choose
    one, and remember it for the next sign-in."""
    new = f"e2e chosen words {len(server.passwords)} {os.urandom(3).hex()}"
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("Confirm new password").fill(new)
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Save password and continue").click()
    assert "/change-password" not in page.url, page.locator("main").inner_text()[:500]
    server.passwords[username] = new


def click_and_wait(page: Any, target: Any) -> None:
    """Click something that loads a new page and wait for that page, not the one before it."""
    with page.expect_navigation(wait_until="load"):
        target.click()


def assert_accessible(page: Any) -> None:
    """Run axe-core on the page: no violations at WCAG 2.2 A/AA."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa']}})"
    )
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert not violations, json.dumps(violations, indent=1)
