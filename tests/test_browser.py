"""User stories driven in a real browser against a running app.

Run on their own with ``pytest -m browser``. They need Debian's Chromium
(``bash scripts/test.sh`` installs it) and take under a minute.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect, sync_playwright

from tests import browser_support as bs

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """Address of a Streamlit server running app.py, stopped after the session."""
    if not bs.APP_PATH.exists():
        pytest.skip("app.py is not written yet; the browser stories need the app")

    data_dir = tmp_path_factory.mktemp("browser-data")
    log_path = bs.ARTIFACTS_DIR / "streamlit-server.log"
    server = bs.start_server(bs.APP_PATH, data_dir, log_path)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium under Playwright, closed after the session."""
    if not bs.CHROMIUM_PATH.exists():
        pytest.fail(
            f"{bs.CHROMIUM_PATH} not found; run `bash scripts/test.sh`, which "
            "installs Debian's chromium, or `apt-get install chromium`."
        )
    with sync_playwright() as playwright:
        browser = bs.launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def app(request, chromium, app_url):
    """A fresh browser tab on the app's start page, with downloads allowed.

    When the test fails, the tab's last state is saved as a screenshot.
    """
    context = chromium.new_context(
        accept_downloads=True, locale="zh-CN", viewport={"width": 1440, "height": 900}
    )
    context.set_default_timeout(bs.UI_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield bs.AppTab.open(page, app_url)
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            bs.save_screenshot(page, f"failed-{request.node.name}")
        context.close()


def _tier_names(default_standard_path) -> list[str]:
    standard = json.loads(default_standard_path.read_text(encoding="utf-8"))
    return [tier["name"] for tier in standard["tiers"]]


def test_manager_loads_sample_moves_cutoff_and_downloads_tiered_workbook(
    app, tmp_path, default_standard_path
):
    app.open_page(bs.Labels.PAGE_UPLOAD)
    app.click_button(bs.Labels.LOAD_SAMPLE)
    app.screenshot("01-upload-sample-loaded")

    app.open_page(bs.Labels.PAGE_STANDARD)
    thumb = bs.cutoff_slider(app.page)
    expect(thumb).to_be_visible()
    before = thumb.get_attribute("aria-valuenow") or thumb.input_value()
    app.move_slider(thumb, steps=-3)
    after = thumb.get_attribute("aria-valuenow") or thumb.input_value()
    assert after != before
    app.screenshot("02-standard-cutoff-moved")
    # The saved standard holds the slider's new line, not the one it had
    # when the page was first drawn.
    with app.page.expect_download() as saved_info:
        bs.download_button(app.page, bs.Labels.SAVE_STANDARD).click()
    saved = json.loads(Path(saved_info.value.path()).read_text(encoding="utf-8"))
    assert float(saved["tiers"][0]["min_score"]) == float(after), (saved, after)

    app.open_page(bs.Labels.PAGE_EXPORT)
    button = bs.download_button(app.page)
    expect(button).to_be_visible()
    with app.page.expect_download() as download_info:
        button.click()
    workbook_path = tmp_path / "tiered.xlsx"
    download_info.value.save_as(workbook_path)
    app.screenshot("03-export-downloaded")

    workbook = openpyxl.load_workbook(workbook_path, read_only=True)
    sheet_names = workbook.sheetnames
    header = next(workbook[sheet_names[1]].iter_rows(max_row=1, values_only=True))
    workbook.close()
    for tier in _tier_names(default_standard_path):
        assert any(tier in name for name in sheet_names), (tier, sheet_names)
    # The next step is built in the script run, not in the download callback.
    assert "升级建议" in header, header
