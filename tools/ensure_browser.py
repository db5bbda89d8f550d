"""Install Debian's Chromium and chromedriver for the browser tests, only when missing.

Run by the README's test command (and so by .ci/run) before pytest. Idempotent: does nothing
when /usr/bin/chromium and /usr/bin/chromedriver exist; otherwise runs ``apt-get update`` and
``apt-get install -y chromium chromium-driver`` (root needed; nothing else downloads a
browser). Without root or apt-get it prints why and exits 0 when not in CI (the browser
tests then skip, saying so) and 1 in CI (``CI=true``), where those tests must run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

NEEDED = ('/usr/bin/chromium', '/usr/bin/chromedriver')


def main() -> int:
    missing = [p for p in NEEDED if not os.path.isfile(p)]
    if not missing:
        return 0
    in_ci = os.environ.get('CI', '').lower() in ('1', 'true', 'yes')
    apt = shutil.which('apt-get')
    if apt is None or os.geteuid() != 0:
        why = 'apt-get not found' if apt is None else 'not root'
        print(f'ensure_browser: {", ".join(missing)} missing and cannot install ({why}); '
              'the browser tests will ' + ('fail (CI)' if in_ci else 'be skipped'),
              file=sys.stderr)
        return 1 if in_ci else 0
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    print(f'ensure_browser: installing chromium and chromium-driver ({", ".join(missing)} '
          'missing)', flush=True)
    subprocess.run([apt, 'update', '-q'], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run([apt, 'install', '-y', '-q', 'chromium',
                    'chromium-driver'], check=True, env=env, stdout=subprocess.DEVNULL)
    still = [p for p in NEEDED if not os.path.isfile(p)]
    if still:
        print(f'ensure_browser: still missing after apt-get: {still}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
