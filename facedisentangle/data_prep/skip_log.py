"""The skip log: every input that was not written, with the reason, next to the output.

``<out>.skipped.tsv`` (tab-separated, UTF-8, one line per skipped input)::

    # name<TAB>source<TAB>reason
    bad/notes	/data/photos/bad/notes.jpg	not an image: unrecognised file format
    tiny	/data/photos/tiny.png	too small: 8x8 px (--min-size 128)

A reason is ``'<category>: <detail>'``; tabs, line breaks and backslashes in names and paths
are written as ``\\t``, ``\\n``, ``\\r`` and ``\\\\``. Each line is appended and
flushed as soon as the input is handled, so an interrupted run keeps its skips and a rerun
does not retry them (unless ``--retry-skipped``).
"""
from __future__ import annotations

import os

HEADER = '# name\tsource\treason\n'


def skip_log_path(out: str | os.PathLike) -> str:
    """``<out>.skipped.tsv`` for the output file ``out``."""
    return os.fspath(out) + '.skipped.tsv'


def _clean(text: str) -> str:
    return ' '.join(str(text).split())


def _escape(text: str) -> str:
    text = str(text).replace('\\', '\\\\')
    return text.replace('\t', '\\t').replace('\n', '\\n').replace('\r', '\\r')


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == '\\' and i + 1 < len(text):
            out.append({'t': '\t', 'n': '\n', 'r': '\r'}.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def category(reason: str) -> str:
    """The category of a skip reason: the part before the first ``:``."""
    return reason.split(':', 1)[0].strip() or reason


class SkipLog:
    """Append-only TSV of skipped inputs (see the module docstring)."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self._f = None

    def read(self) -> dict[str, tuple[str, str]]:
        """``{source: (name, reason)}`` of the file (empty if it does not exist).

        Keyed by the source path: two files can share a name (the duplicates).
        """
        entries: dict[str, tuple[str, str]] = {}
        if not os.path.exists(self.path):
            return entries
        with open(self.path, encoding='utf-8', newline='\n') as f:
            for lineno, line in enumerate(f, 1):
                complete = line.endswith('\n')
                line = line.rstrip('\n')
                if not line or line.startswith('#'):
                    continue
                parts = line.split('\t')
                if len(parts) != 3:
                    if not complete:  # a line cut by a kill while it was written: retry it
                        break
                    raise ValueError(f'{self.path}, line {lineno}: expected 3 tab-separated '
                                     f'fields (name, source, reason), got {len(parts)}; fix '
                                     'or delete the file (its inputs are then retried)')
                entries[_unescape(parts[1])] = (_unescape(parts[0]), parts[2])
        return entries

    def reset(self) -> None:
        """Empty the log (``--retry-skipped``)."""
        self.close()
        with open(self.path, 'w', encoding='utf-8') as f:
            f.write(HEADER)

    def add(self, name: str, source: str, reason: str) -> None:
        """Append one skipped input and flush it to disk."""
        if self._f is None:
            new = not os.path.exists(self.path) or os.path.getsize(self.path) == 0
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            cut = False
            if not new:
                with open(self.path, 'rb') as f:
                    f.seek(-1, os.SEEK_END)
                    cut = f.read(1) != b'\n'
            self._f = open(self.path, 'a', encoding='utf-8', newline='\n')
            if new:
                self._f.write(HEADER)
            elif cut:  # end the line a kill cut short (read() ignores it)
                self._f.write('\n')
        self._f.write(f'{_escape(name)}\t{_escape(source)}\t{_clean(reason)}\n')
        self._f.flush()

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None

    def __enter__(self) -> SkipLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
