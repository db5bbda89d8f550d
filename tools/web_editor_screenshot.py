"""Make docs/images/web_editor.png: a real edit in the web editor, in headless Chromium.

    python tools/web_editor_screenshot.py [--checkpoint MODEL] [--out docs/images/web_editor.png]

Starts the editor on a free loopback port with the model (default: the synthetic-128 model
shipped in the package), uploads two faces (``demo/faces/face0.png`` and ``face1.png``; the
first one's sketch fills the canvas), draws a pen stroke across the mouth box, takes the eyes'
appearance from the second photo, and saves a screenshot of the page. Needs Chromium and
chromedriver (``tools/ensure_browser.py``) and the ``web`` extra.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('-c', '--checkpoint', default=None,
                   help='model to edit with (default: the shipped synthetic-128 model)')
    p.add_argument('--faces', nargs=2, default=[osp.join(REPO, 'demo/faces/face0.png'),
                                                osp.join(REPO, 'demo/faces/face1.png')])
    p.add_argument('--out', default=osp.join(REPO, 'docs/images/web_editor.png'))
    p.add_argument('--precision', default='auto')
    args = p.parse_args(argv)

    from selenium.webdriver.support.ui import Select

    from facedisentangle.apis import FaceEditor
    from facedisentangle.web.browser import settled, start_chromium, stroke, upload, wait_for
    from facedisentangle.web.server import create_app, serve_in_background

    checkpoint = args.checkpoint
    if checkpoint is None:
        from facedisentangle.model_zoo import default_checkpoint

        checkpoint = default_checkpoint()
    editor = FaceEditor.from_checkpoint(checkpoint, precision=args.precision)
    with serve_in_background(create_app(editor)) as url:
        driver = start_chromium(1400, 760)
        try:
            driver.get(url)
            wait_for(driver, 'return document.body.dataset.ready === "1"', 'the page')
            upload(driver, 'ref-file', osp.abspath(args.faces[0]))
            n = settled(driver, 0)
            upload(driver, 'ref-file', osp.abspath(args.faces[1]))
            n = settled(driver, n)
            stroke(driver, editor.model.layout.box('mouth'), editor.resolution)
            n = settled(driver, n)
            for comp in ('eye1', 'eye2'):
                Select(driver.find_element('id', f'app-{comp}')).select_by_value('1')
                n = settled(driver, n)
            driver.save_screenshot(args.out)
        finally:
            driver.quit()
    print(f'wrote {args.out} ({checkpoint})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
