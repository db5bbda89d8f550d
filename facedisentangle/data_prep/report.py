"""The end-of-run summary of the data preparation (rich tables; the progress bar is
:mod:`.progress`)."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .pipeline import PrepareSummary


def summary_table(s: PrepareSummary) -> Table:
    """Counts, skips by reason, conversions, time and rate of a run."""
    t = Table(title=Text(f'Data preparation: {s.out}', style='bold'), show_header=False,
              title_justify='left')
    t.add_column('what')
    t.add_column('count', justify='right')
    t.add_row('found', str(s.found))
    if s.ignored_files:
        t.add_row('  other files (no image extension, ignored)', str(s.ignored_files))
    t.add_row('already in the file (earlier runs)', str(s.already_written))
    earlier = s.skip_counts(earlier=True)
    if earlier:
        t.add_row('skipped by earlier runs (--retry-skipped retries them)',
                  str(sum(earlier.values())))
    t.add_row('processed now', str(len(s.processed)))
    t.add_row('written now', str(s.written), style='green')
    now = s.skip_counts(earlier=False)
    t.add_row('skipped now', str(sum(now.values())), style='yellow' if now else None)
    for cat, n in sorted(now.items(), key=lambda kv: (-kv[1], kv[0])):
        t.add_row(Text(f'  {cat}'), str(n))
    for note, n in sorted(s.converted.items(), key=lambda kv: (-kv[1], kv[0])):
        t.add_row(f'converted: {note}', str(n))
    t.add_row('time', f'{s.seconds:.1f} s')
    t.add_row('images/s', f'{s.rate:.2f}')
    t.add_row('samples in the file', str(s.num_samples))
    t.add_row('  ' + ', '.join(f'{k} {v}' for k, v in s.split_counts.items()), '')
    t.add_row('file complete', 'yes' if s.complete else
              ('no: interrupted, rerun the same command to continue' if s.interrupted
               else 'no'), style='green' if s.complete else 'red')
    return t


def skipped_table(s: PrepareSummary, max_rows: int = 100) -> Table | None:
    """Every skipped input (this run first) with its reason; None if there are none."""
    rows = s.skipped_now + s.skipped_earlier
    if not rows:
        return None
    t = Table(title=Text(f'Skipped inputs (all of them are in {s.skip_log})', style='bold'),
              title_justify='left')
    t.add_column('name')
    t.add_column('reason')
    t.add_column('run')
    for x in rows[:max_rows]:
        t.add_row(Text(x.name), Text(x.reason), 'earlier' if x.earlier else 'this')
    if len(rows) > max_rows:
        t.add_row(f'... {len(rows) - max_rows} more', Text(f'see {s.skip_log}'), '')
    return t


def print_summary(s: PrepareSummary, console: Console | None = None,
                  max_skipped_rows: int = 100) -> None:
    console = console or Console()
    console.print(summary_table(s))
    skipped = skipped_table(s, max_skipped_rows)
    if skipped is not None:
        console.print(skipped)
