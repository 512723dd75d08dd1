"""The dashboard in a real headless Chromium (Debian's chromium + chromedriver)."""

import json
import os
import shutil

import httpx
import pytest

from whorf.proxy.app import ProxyConfig, create_app

from servers import serve, upstream_app
from test_proxy import openai_body

pytestmark = pytest.mark.slow  # real agents, a browser or a database: make test-quick skips them

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


def _invoice_log() -> str:
    """A service log over the query budget: health checks that repeat, and one worker line per invoice."""
    lines = []
    for i in range(160):
        lines.append(f"2026-11-20 14:{i // 60:02d}:{i % 60:02d},{100 + i} INFO  [http] GET /health 200 {1 + i % 3}ms")
        if i % 2 == 0:
            status = "FAILED card_declined (code=E4021)" if i == 96 else "charged"
            lines.append(f"2026-11-20 14:{i // 60:02d}:{i % 60:02d},{300 + i} INFO  [worker-{i % 4}] invoice "
                         f"INV-{2195 + i} customer {88000 + 7 * i} {status}")
    return "\n".join(lines) + "\n"


def _first_handle(body: dict) -> str:
    import re

    for message in reversed(body.get("messages", [])):
        for block in message.get("content", []) if isinstance(message.get("content"), list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                text = block["content"] if isinstance(block["content"], str) else json.dumps(block["content"])
                found = re.search(r"whorf:[0-9a-f]{12}", text)
                if found:
                    return f"whorf retrieve {found.group()}"
    return "echo no-handle"


def test_after_a_real_claude_code_session_the_page_says_what_went_why_and_what_came_back(worker, tmp_path):
    """Claude Code (npm) through ``whorf wrap``, asked about one invoice: the log it reads goes up narrowed on
    the invoice's id, the model runs the ``whorf retrieve`` its output names, and the dashboard leads with
    the saving net of the prompt cache, then per session the units dropped by reason with the query's
    terms and the retrieval; ``whorf stats`` prints the same."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from servers import anthropic_agent_upstream, free_port
    from test_agents import _agent, _wrap

    binary = _agent("claude")
    (tmp_path / "app.log").write_text(_invoice_log())
    (tmp_path / "home").mkdir()
    env = dict(os.environ, HOME=str(tmp_path / "home"), ANTHROPIC_API_KEY="sk-ant-test", DISABLE_TELEMETRY="1",
               CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1")
    upstream = anthropic_agent_upstream(["cat app.log", _first_handle])
    port = free_port()
    with serve(upstream) as up:
        app = create_app(ProxyConfig(upstream=up, min_chars=100, deadline_ms=60_000), worker=worker)
        with serve(app, port=port) as proxy:
            run = _wrap("claude", binary, port, ["-p", "Why did invoice INV-2291 fail? Read app.log.",
                                                 "--allowedTools", "Bash"], env, tmp_path)
            assert run.returncode == 0, run.stderr[-2000:]
            stats = httpx.get(f"{proxy}/stats").json()
            (session,) = stats["sessions"].values()
            assert session["omitted_by_reason"].get("query", 0) > 0 and "inv-2291" in session["query_terms"]
            assert session["retrievals"] == 1 and stats["retrievals_by_tool_shape"] == {"Bash/log": 1}
            assert stats["headline"]["saved_net_of_cache"] > 0
            import subprocess
            import sys

            printed = subprocess.run([sys.executable, "-m", "whorf", "stats", "--url", proxy], capture_output=True,
                                     text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
            assert printed.returncode == 0, printed.stderr
            assert "saved net of the prompt cache: $" in printed.stdout and "inv-2291" in printed.stdout
            driver = browser()
            try:
                driver.set_window_size(1400, 1600)
                driver.get(f"{proxy}/dashboard")
                wait = WebDriverWait(driver, 20)
                wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#sessions tbody tr")))
                wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#recent .item")))
                assert driver.find_element(By.CSS_SELECTOR, '[data-stat="saved net of cache"]').text.startswith("$")
                row = driver.find_element(By.CSS_SELECTOR, "#sessions tbody tr")
                assert "query" in row.find_element(By.CSS_SELECTOR, ".reasons").text
                assert "inv-2291" in row.find_element(By.CSS_SELECTOR, ".terms").text
                assert row.find_element(By.CSS_SELECTOR, ".retrievals").text == "1"
                item = driver.find_element(By.CSS_SELECTOR, "#recent .item")
                assert "query" in [e.text for e in item.find_elements(By.CSS_SELECTOR, ".markers .reason")]
                link = item.find_element(By.CSS_SELECTOR, ".markers a").get_attribute("href")
                assert httpx.get(link).text in _invoice_log()  # the marker's original, byte for byte
                assert driver.find_elements(By.CSS_SELECTOR, "#chart .xtick")  # the time axis has values
                shot = os.environ.get("WHORF_DASHBOARD_SCREENSHOT") or str(tmp_path / "dashboard.png")
                driver.save_screenshot(shot)
            finally:
                driver.quit()
