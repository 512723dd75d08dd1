"""Show what compression did: the structural decisions (collapsed runs, kept outliers, headers, headlines)
and every word kept or dropped, with its score (terminal and HTML)."""

from __future__ import annotations

import html

from rich.text import Text

from whorf.result import Compressed

STYLE_KEPT = "green"
STYLE_MUST = "bold cyan"
STYLE_DROPPED = "dim red strike"


STYLE_STRUCTURE = "bold magenta"


def structure_lines(result: Compressed) -> list[str]:
    """One line per structural decision, in input order: what was collapsed or kept, and why."""
    rows = []
    handles = {o.line: o for o in result.omissions}
    for note in sorted(result.notes, key=lambda n: n.line):
        extra = ""
        if note.action == "collapsed" and note.line in handles:
            o = handles[note.line]
            extra = f" -> {o.handle} (whorf retrieve {o.handle})"
        rows.append(f"line {note.line + 1}: {note.action}: {note.reason}{extra}")
    return rows


def to_rich(result: Compressed) -> Text:
    """The structural decisions, then the original text with kept words green, must-keep words bold cyan,
    dropped ones struck (words the structure omitted are struck too)."""
    out = Text()
    decisions = structure_lines(result)
    if decisions:
        out.append(f"structure: {result.stats.domain}, {len(result.markers)} markers\n", style=STYLE_STRUCTURE)
        for line in decisions:
            out.append(f"  {line}\n", style=STYLE_STRUCTURE)
        out.append("\n")
    source = _source(result)
    pos = 0
    for w in result.words:
        out.append(source[pos:w.start])
        style = STYLE_MUST if (w.kept and w.must_keep) else STYLE_KEPT if w.kept else STYLE_DROPPED
        out.append(w.text, style=style)
        pos = w.end
    out.append(source[pos:])
    return out


def score_rows(result: Compressed) -> list[tuple[str, str, str, str]]:
    """(word, score, decision, must-keep); words the structure decided show ``structure`` for a score."""
    return [(w.text, f"{w.score:.3f}" if w.by == "model" else "structure", "keep" if w.kept else "drop",
             "must" if w.must_keep else "") for w in result.words]


def to_html(result: Compressed, title: str = "whorf explain") -> str:
    """A self-contained HTML page: hover a word for its score."""
    source = _source(result)
    parts: list[str] = []
    pos = 0
    for w in result.words:
        parts.append(html.escape(source[pos:w.start]))
        cls = "must" if (w.kept and w.must_keep) else "kept" if w.kept else "dropped"
        parts.append(f'<span class="{cls}" title="score {w.score:.3f}">{html.escape(w.text)}</span>')
        pos = w.end
    parts.append(html.escape(source[pos:]))
    s = result.stats
    summary = html.escape(s.line())
    decisions = "".join(f"<li>{html.escape(line)}</li>" for line in structure_lines(result))
    decisions = f'<h2>Structural decisions</h2><ul class="structure">{decisions}</ul>' if decisions else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; background: #fafafa; color: #222; }}
pre {{ background: #fff; border: 1px solid #ddd; padding: 1rem; white-space: pre-wrap; line-height: 1.5; }}
.kept {{ color: #0a6b2d; }}
.must {{ color: #0b4f8a; font-weight: 700; background: #e3f0ff; }}
.dropped {{ color: #b33; text-decoration: line-through; opacity: .6; }}
.legend span {{ margin-right: 1.5rem; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="summary">{summary}</p>
<p class="legend"><span class="kept">kept</span><span class="must">must-keep (kept)</span><span class="dropped">dropped</span></p>
{decisions}
<pre>{''.join(parts)}</pre>
<h2>Compressed</h2>
<pre>{html.escape(result.text)}</pre>
</body></html>
"""


def _source(result: Compressed) -> str:
    return result.original or result.text
