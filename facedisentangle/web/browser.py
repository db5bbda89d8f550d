"""Headless Chromium from the system's packages, driven by selenium (tests, screenshots).

Nothing here downloads a browser: it uses ``/usr/bin/chromium`` and ``/usr/bin/chromedriver``
(Debian's ``chromium`` and ``chromium-driver``; ``tools/ensure_browser.py`` installs them) and
turns off selenium's driver manager. Chromium starts without network features (the machines
this runs on have no internet, and Chromium waits on it otherwise) and with a fresh profile.
"""
from __future__ import annotations

import os
import shutil
import tempfile

CHROMIUM_PATHS = ('/usr/bin/chromium', '/usr/bin/chromium-browser')
DRIVER_PATHS = ('/usr/bin/chromedriver',)
CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                  '--no-first-run', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage')


def find_browser() -> tuple[str, str] | None:
    """``(chromium, chromedriver)`` paths when both are installed, else ``None``."""
    browser = next((p for p in CHROMIUM_PATHS if os.path.isfile(p)), None)
    driver = next((p for p in DRIVER_PATHS if os.path.isfile(p)), None) or shutil.which(
        'chromedriver')
    return (browser, driver) if browser and driver else None


def start_chromium(width: int = 1280, height: int = 900):
    """A selenium ``webdriver.Chrome`` on the system Chromium; ``driver.quit()`` ends it and
    removes its profile folder (``driver.profile_dir``)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_browser()
    if found is None:
        raise FileNotFoundError('Chromium and chromedriver are not installed '
                                '(/usr/bin/chromium, /usr/bin/chromedriver): run '
                                'tools/ensure_browser.py')
    browser, driver_path = found
    profile = tempfile.mkdtemp(prefix='fd-chromium-')
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f'--user-data-dir={profile}')
    options.add_argument(f'--window-size={width},{height}')
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.profile_dir = profile
    quit_ = driver.quit

    def quit_and_clean():
        try:
            quit_()
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    driver.quit = quit_and_clean
    return driver


# ------------------------------------------------------------------ driving the editor page
def wait_for(driver, condition: str, what: str, timeout: float = 60):
    """Poll a JavaScript expression (``return ...``) until it is truthy; its value."""
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        value = driver.execute_script(condition)
        if value:
            return value
        time.sleep(0.05)
    message = driver.execute_script("return document.getElementById('message').textContent")
    raise TimeoutError(f'timed out waiting for {what}; page message: {message!r}')


def settled(driver, after: int, timeout: float = 60) -> int:
    """Wait until the page has received more than ``after`` results and is idle; the count."""
    return int(wait_for(driver, 'return document.body.dataset.busy === "0" && '
                                f'Number(document.body.dataset.updates) > {after} && '
                                'Number(document.body.dataset.updates)',
                        f'an update after #{after}', timeout))


def upload(driver, input_id: str, path) -> None:
    """Choose a file in the page's ``<input type=file id=input_id>``."""
    driver.find_element('id', input_id).send_keys(str(path))


def stroke(driver, box: tuple[int, int, int], resolution: int, segments: int = 4) -> None:
    """A horizontal pen stroke across the middle of a box ``(x, y, size)`` in model pixels."""
    from selenium.webdriver.common.action_chains import ActionChains

    canvas = driver.find_element('id', 'canvas')
    width = canvas.size['width']
    scale = width / resolution
    x, y, s = box
    cx, cy = (x + s * 0.25) * scale - width / 2, (y + s * 0.6) * scale - width / 2
    chain = ActionChains(driver).move_to_element_with_offset(canvas, int(cx), int(cy))
    chain.click_and_hold()
    for _ in range(segments):
        chain.move_by_offset(int(s * 0.5 / segments * scale), 0)
    chain.release().perform()


def result_pixels(driver):
    """The result image shown in the page, as a uint8 ``HxWx3`` array."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    data = driver.execute_script(
        "const img = document.getElementById('result');"
        "const c = document.createElement('canvas');"
        'c.width = img.naturalWidth; c.height = img.naturalHeight;'
        "c.getContext('2d').drawImage(img, 0, 0); return c.toDataURL('image/png');")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data.split(',', 1)[1])))
                      .convert('RGB'))
