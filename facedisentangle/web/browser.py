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
