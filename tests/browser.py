"""Headless Chromium (Debian's ``chromium`` and ``chromium-driver``) driven by Selenium, and
``daguerre web`` in a subprocess: shared by the browser tests and scripts/make_web_screenshot.py."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def chromium_missing() -> str | None:
    """Why the browser cannot run here, or None when it can."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def web_server(*options: str, timeout: float = 60.0) -> Iterator[tuple[str, float]]:
    """``daguerre web OPTIONS`` on a free port: yields its URL and the seconds it took to
    answer. Its output goes to a file (a pipe nobody reads could fill and stall it)."""
    port = free_port()
    command = [sys.executable, "-m", "daguerre", "web", "--port", str(port), *options]
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            while not _answers(url):
                if server.poll() is not None or time.perf_counter() - started > timeout:
                    log.seek(0)
                    raise RuntimeError(f"daguerre web did not start: {log.read().decode()}")
                time.sleep(0.05)
            yield url, time.perf_counter() - started
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


def chromium(width: int = 1400, height: int = 1000) -> webdriver.Chrome:
    """Headless Chromium that records the page's console."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    return driver


def console_errors(driver: webdriver.Chrome) -> list[str]:
    """The console's errors since the last call."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def open_page(driver: webdriver.Chrome, url: str, timeout: float = 60.0) -> None:
    """Load the page and wait until Gradio has drawn the Restore tab."""
    driver.get(url)
    wait(driver, timeout).until(
        expected_conditions.presence_of_element_located((By.ID, "restore-run"))
    )


def wait(driver: webdriver.Chrome, timeout: float) -> WebDriverWait:
    """A wait that polls often (the page answers in well under a second)."""
    return WebDriverWait(driver, timeout, poll_frequency=0.1)


def upload(driver: webdriver.Chrome, elem_id: str, *paths: Path) -> None:
    """Give files to the upload component ``elem_id`` as a person picking them would."""
    field = driver.find_element(By.CSS_SELECTOR, f"#{elem_id} input[type=file]")
    field.send_keys("\n".join(str(Path(path).resolve()) for path in paths))


def press(driver: webdriver.Chrome, label: str, role: str | None = None) -> None:
    """Click the visible button that reads ``label`` (a tab with ``role="tab"``, an accordion's
    header by its title)."""
    for button in driver.find_elements(By.TAG_NAME, "button"):
        title = button.text.split("\n")[0].strip()
        if title == label and button.get_attribute("role") == role and button.is_displayed():
            button.click()
            return
    raise LookupError(f"no button {label!r}")


def wait_for_background(driver: webdriver.Chrome, elem_id: str, timeout: float = 60) -> None:
    """Wait until the image editor ``elem_id`` shows its picture and its progress is done (a
    stroke drawn before then is wiped when the picture arrives)."""
    editor = f"#{elem_id}"
    wait(driver, timeout).until(
        lambda d: (
            not d.find_elements(By.CSS_SELECTOR, f"{editor} .empty")
            and d.find_elements(By.CSS_SELECTOR, f"{editor} .wrap.default.hide")
        )
    )


def brush_stroke(driver: webdriver.Chrome, elem_id: str, length: int = 120) -> None:
    """Paint a horizontal stroke through the middle of the image editor ``elem_id``; return
    once the editor holds it (its Undo button wakes up)."""
    brush = driver.find_element(By.CSS_SELECTOR, f"#{elem_id} button[aria-label=Brush]")

    brush.click()
    wait(driver, 10).until(lambda _: "highlight" in brush.get_attribute("class"))
    canvas = driver.find_elements(By.CSS_SELECTOR, f"#{elem_id} canvas")[-1]
    stroke = ActionChains(driver).move_to_element_with_offset(canvas, -length // 2, 0)
    stroke.click_and_hold()
    for _ in range(4):
        stroke.move_by_offset(length // 4, 0)
    stroke.release().perform()
    undo = driver.find_element(By.CSS_SELECTOR, f"#{elem_id} button[aria-label=Undo]")
    wait(driver, 10).until(lambda _: undo.get_attribute("disabled") is None)


def links(driver: webdriver.Chrome, elem_id: str) -> list[WebElement]:
    """The download links that the component ``elem_id`` shows."""
    return driver.find_elements(By.CSS_SELECTOR, f"#{elem_id} a[download]")
