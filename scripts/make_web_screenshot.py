"""Write ``docs/web.png``: the Restore tab of ``daguerre web`` after restoring a real old photo.

Taken through the browser the tests use (Debian's headless Chromium driven by Selenium, see
``tests/browser.py``): the page is served on a free port, the photo uploaded, Restore clicked,
and the window captured once the before/after and the download are shown.

    python scripts/make_web_screenshot.py [--photo ../shared/data/old/NAME.jpg]
        [--output docs/web.png] [--width 1400] [--height 1100]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import browser  # noqa: E402  (the tests' helper, so that both drive the same browser)
from selenium.webdriver.common.by import By  # noqa: E402

PHOTO = ROOT.parent / "shared" / "data" / "old" / "deoldify__StreetGramaphonePlayerLondon1920s.jpg"

# the outputs fade in after the job ends: a moment before the capture, not a half-faded frame
SETTLE_S = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, default=PHOTO, help="an old photo to restore")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "web.png")
    parser.add_argument("--width", type=int, default=1400, help="browser window width")
    parser.add_argument("--height", type=int, default=1100, help="browser window height")
    args = parser.parse_args()
    if missing := browser.chromium_missing():
        sys.exit(missing)
    with browser.web_server() as (url, seconds):
        print(f"daguerre web answered after {seconds:.2f} s")
        driver = browser.chromium(args.width, args.height)
        try:
            browser.open_page(driver, url)
            browser.upload(driver, "restore-photos", args.photo)
            browser.wait_for_background(driver, "restore-brush", 60)
            driver.find_element(By.ID, "restore-run").click()
            browser.wait(driver, 600).until(lambda d: browser.links(d, "restore-downloads"))
            driver.execute_script("window.scrollTo(0, 0)")
            time.sleep(SETTLE_S)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.output))
            if errors := browser.console_errors(driver):
                sys.exit(f"the page's console shows errors: {errors}")
        finally:
            driver.quit()
    print(f"screenshot → {args.output}")


if __name__ == "__main__":
    main()
