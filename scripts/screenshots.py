"""Take the README's screenshots: one per page, on the bundled sample.

Run with ``.venv/bin/python scripts/screenshots.py``; it starts the app on a
free local port with a temporary data folder, drives Debian's Chromium and
writes docs/screenshots/<page>.png.
"""

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR / "tests"))

from browser_support import (  # noqa: E402
    APP_PATH,
    AppTab,
    Labels,
    launch_chromium,
    start_server,
)

OUT = PROJECT_DIR / "docs" / "screenshots"
PAGES = {
    "upload": Labels.PAGE_UPLOAD,
    "standard": Labels.PAGE_STANDARD,
    "results": Labels.PAGE_RESULTS,
    "playbook": "服务策略",
    "export": Labels.PAGE_EXPORT,
    "manage": "动态管理",
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data_dir:
        server = start_server(APP_PATH, Path(data_dir), Path(data_dir) / "server.log")
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page(viewport={"width": 1440, "height": 2200})
                tab = AppTab.open(page, server.url)
                for name, label in PAGES.items():
                    tab.open_page(label)
                    if name == "results":
                        pick_first_client(tab)
                    # Some widgets load their code on first use; wait for it.
                    page.wait_for_load_state("networkidle")
                    page.wait_for_timeout(2500)  # a script, not a test: a pause is fine
                    # Streamlit scrolls inside its own container, so a tall
                    # viewport, not full_page, captures the whole page.
                    page.screenshot(path=str(OUT / f"{name}.png"))
                browser.close()
        finally:
            server.stop()


def pick_first_client(tab: AppTab) -> None:
    """Open the client picker and choose the first client, for the waterfall."""
    picker = tab.page.get_by_test_id("stSelectbox").filter(has_text="选择客户编号")
    picker.click()
    with tab.rerun():
        tab.page.get_by_role("option").first.click()


if __name__ == "__main__":
    main()
