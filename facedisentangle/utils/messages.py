"""Error messages as the command-line tools print them: one ``error:`` line each."""
from __future__ import annotations


def one_line(error: BaseException) -> str:
    """The error's message on one line (an MMEngine build error keeps its class prefix)."""
    msg = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    return ' '.join(str(msg).split())
