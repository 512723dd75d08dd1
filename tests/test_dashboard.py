"""The dashboard in a real headless Chromium (Debian's chromium + chromedriver)."""

import os
import shutil

import httpx
import pytest

from whorf.proxy.app import ProxyConfig, create_app

from servers import serve, upstream_app
from test_proxy import openai_body

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
MISSING = "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
IN_CI = os.environ.get("WHORF_CI") == "1"  # set by .ci/run: there the browser test must run, never skip


@pytest.fixture(autouse=True)
def chromium_present():
    if not (CHROMIUM and DRIVER):
        if IN_CI:
            pytest.fail(f"WHORF_CI=1 but {MISSING}")
        pytest.skip(MISSING)


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def test_dashboard_renders_stats_and_a_recent_compression(tiny_compressor, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    with serve(upstream_app()) as up:
        app = create_app(ProxyConfig(upstream=up, min_chars=100), tiny_compressor)
        with serve(app) as proxy:
            httpx.post(f"{proxy}/v1/chat/completions", json=openai_body())
            driver = browser()
            try:
                driver.get(f"{proxy}/dashboard")
                wait = WebDriverWait(driver, 20)
                wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#recent .item")))
                requests = driver.find_element(By.CSS_SELECTOR, '[data-stat="requests"]').text
                assert requests == "1"
                item = driver.find_element(By.CSS_SELECTOR, "#recent .item")
                assert "bash" in item.text and "SIGILL" in item.text
                must = [e.text for e in item.find_elements(By.CSS_SELECTOR, ".must")]
                assert "SIGILL" in must
                assert item.find_elements(By.CSS_SELECTOR, ".dropped") or item.find_elements(By.CSS_SELECTOR, ".kept")
                assert driver.find_elements(By.CSS_SELECTOR, "#chart polyline")
                cost = driver.find_element(By.CSS_SELECTOR, '[data-stat="cost"]').text  # the upstream's usage, priced
                assert cost == "-" or cost.startswith("$")
                driver.save_screenshot(str(tmp_path / "dashboard.png"))
            finally:
                driver.quit()
