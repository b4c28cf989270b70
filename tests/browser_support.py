"""Helpers for the browser tests: a real Streamlit server and Debian's Chromium.

The server is started the way a user starts it (``streamlit run app.py``),
headless, on a free port of 127.0.0.1 only, with its own data folder. We wait
for ``/_stcore/health`` in a bounded loop, then hand its address to Playwright.
Playwright never downloads a browser here: it launches /usr/bin/chromium.

Every selector the tests use lives in ``Labels`` and the locator functions
below, so a change of wording on a page is fixed in one place.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Locator, Page, WebSocket, expect
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

PROJECT_DIR = Path(__file__).resolve().parents[1]
APP_PATH = PROJECT_DIR / "app.py"
ARTIFACTS_DIR = PROJECT_DIR / "test-artifacts"
CHROMIUM_PATH = Path(os.environ.get("TIERING_CHROMIUM", "/usr/bin/chromium"))
# Flags that keep Chromium quiet on a machine without outside network: no
# sandbox (we run as root), no GPU, no background fetches or updates.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOST = "127.0.0.1"
_STREAM_PATH = "/_stcore/stream"
STARTUP_TIMEOUT_S = 90
# Streamlit reruns the page script after each widget change; a rerun over
# 5,000 clients takes a few seconds on a small machine, so waits are generous.
UI_TIMEOUT_MS = 60_000


class Labels:
    """Visible text the browser tests look for (Chinese, the default language)."""

    LOAD_SAMPLE = "加载示例数据"
    PAGE_UPLOAD = "导入数据"
    PAGE_STANDARD = "分级标准"
    PAGE_RESULTS = "分级结果"
    PAGE_EXPORT = "导出"
    # A cut-off slider is labelled with a tier name or a word for cut-off.
    CUTOFF_SLIDER = re.compile(r"钻石|黄金|白银|分数线|门槛|最低分")
    DOWNLOAD_WORKBOOK = re.compile(r"Excel|xlsx|工作簿", re.IGNORECASE)
    SAVE_STANDARD = re.compile(r"JSON")


@dataclass
class StreamlitServer:
    """A running ``streamlit run`` process and the address it answers on."""

    process: subprocess.Popen
    url: str
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the server wrote, for a failure message."""
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server: politely first, then for good."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_server(app_path: Path, data_dir: Path, log_path: Path) -> StreamlitServer:
    """Start ``streamlit run app_path`` headless and wait until it is healthy.

    Raises:
        RuntimeError: the server exited or did not answer in time; the
            message carries the end of its log.
    """
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.headless", "true",
        "--server.address", HOST,
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    env = {**os.environ, "TIERING_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=app_path.parent, env=env, stdout=log, stderr=subprocess.STDOUT
        )

    server = StreamlitServer(process, f"http://{HOST}:{port}", log_path)
    try:
        _wait_until_healthy(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_healthy(server: StreamlitServer) -> None:
    """Poll /_stcore/health until it answers "ok", within STARTUP_TIMEOUT_S."""
    # Only our own loopback server is asked; no proxy from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with opener.open(f"{server.url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        # Waiting on the process doubles as the pause between polls and
        # notices at once if the server has died.
        try:
            code = server.process.wait(timeout=0.25)
        except subprocess.TimeoutExpired:
            continue
        raise RuntimeError(f"streamlit exited with {code}:\n{server.log_tail()}")
    raise RuntimeError(
        f"streamlit gave no health answer in {STARTUP_TIMEOUT_S} s:\n"
        f"{server.log_tail()}"
    )


def launch_chromium(playwright):
    """Launch Debian's Chromium headless through Playwright."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM_PATH), headless=True, args=CHROMIUM_ARGS
    )


# A run interrupted by a newer one (FINISHED_EARLY_FOR_RERUN) does not count.
_RUN_ENDED = {
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
}


def _ends_a_run(payload: bytes | str) -> bool:
    """Whether a websocket frame from the server says a script run has ended."""
    if isinstance(payload, str):
        return False
    message = ForwardMsg()
    message.ParseFromString(payload)
    return (
        message.WhichOneof("type") == "script_finished"
        and message.script_finished in _RUN_ENDED
    )


@dataclass
class AppTab:
    """A browser tab on the app, with the websocket the app talks over.

    Streamlit reruns the page script after every click or widget change. The
    page's own "not running" marker can still show the previous run's state
    just after a click, so each action waits for the server's message that the
    run it caused has finished, read from the websocket. No fixed pauses.
    """

    page: Page
    stream: WebSocket

    @classmethod
    def open(cls, page: Page, url: str) -> AppTab:
        """Load the app in ``page`` and wait for its first run to finish."""
        with page.expect_websocket(lambda ws: ws.url.endswith(_STREAM_PATH)) as info:
            page.goto(url)
        tab = cls(page, info.value)
        wait_for_app_idle(page)
        return tab

    @contextmanager
    def rerun(self) -> Iterator[None]:
        """Run the body, then wait until the script run it caused has ended."""
        with self.stream.expect_event(
            "framereceived", predicate=_ends_a_run, timeout=UI_TIMEOUT_MS
        ):
            yield
        wait_for_app_idle(self.page)

    def open_page(self, label: str) -> None:
        """Go to one of the app's pages through its navigation link."""
        link = self.page.get_by_role("link", name=label, exact=True).first
        with self.rerun():
            link.click()

    def click_button(self, label: str) -> None:
        """Click the button with this label and wait for the rerun."""
        button = self.page.get_by_role("button", name=label).first
        with self.rerun():
            button.click()

    def move_slider(self, thumb: Locator, steps: int) -> None:
        """Move a slider by ``steps`` key presses (negative: to the left).

        Each press is its own change and rerun; waiting for each keeps a late
        run from an earlier press from being taken for the last one.
        """
        key = "ArrowRight" if steps > 0 else "ArrowLeft"
        thumb.focus()
        for _ in range(abs(steps)):
            with self.rerun():
                thumb.press(key)

    def screenshot(self, name: str) -> Path:
        """Save a full-page screenshot under test-artifacts/; return its path."""
        return save_screenshot(self.page, name)


def save_screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot of ``page`` as test-artifacts/<name>.png."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_for_app_idle(page: Page) -> None:
    """Wait until the app is connected and shows no script running."""
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute(
        "data-test-connection-state", "CONNECTED", timeout=UI_TIMEOUT_MS
    )
    expect(app).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=UI_TIMEOUT_MS
    )


def cutoff_slider(page: Page) -> Locator:
    """The thumb of the first tier cut-off slider on the page."""
    slider = page.get_by_test_id("stSlider").filter(has_text=Labels.CUTOFF_SLIDER)
    return slider.first.get_by_role("slider").first


def download_button(page: Page, label: re.Pattern = Labels.DOWNLOAD_WORKBOOK) -> Locator:
    """The download button whose text matches ``label`` (the tiered workbook)."""
    buttons = page.get_by_test_id("stDownloadButton").get_by_role("button")
    return buttons.filter(has_text=label).first
