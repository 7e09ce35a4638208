"""The claims page as a dashboard: one compact row per claim, read from the register.

Stages: :func:`claim_rows` reads the register (``data/claims.csv``) into one tidy table, a row
per claim with the columns the page shows; :func:`dashboard_html` renders that table as HTML.
The HTML needs no network and no JavaScript library: a dozen lines of inline script filter the
rows by article and by verdict, and the full quote, the conditions and where a verdict flips
open in place (a ``<details>`` element) so the row itself stays one line of text.

Each row holds

``id``        the register's claim id (``C01`` ...);
``claim``     the quote, cut at a word boundary to ``short_chars`` characters;
``status``    the verdict, or ``pending`` (a chapter is assigned but has not recorded one) or
              ``not yet tested``; drawn as a coloured badge;
``share``     the share of Monte Carlo draws in which the verdict's rule holds, where the register
              records one (its optional column ``share_holds``, in [0, 1]); blank otherwise;
``chapter``   the chapter that tests it, linked to that chapter's ``Verdicts`` section (under the
              claim text).

The layout is a CSS grid of four columns that folds into two on a narrow screen (below 640 px the
badge and the share move under the claim text), so no width between a phone's and a desktop's
scrolls sideways.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd

from .claims import VERDICTS
from .errors import ModelInputError

PENDING = "pending"
UNTESTED = "not yet tested"
#: Badge colours (background; the text is white): each passes WCAG AA contrast (4.5:1) on white text.
BADGE_COLOURS = {
    "supported": "#1a7f37",
    "supported with conditions": "#2f6f8f",
    "not supported": "#9a5b00",
    "contradicted": "#b42318",
    "out of scope": "#5c6670",
    PENDING: "#6f42c1",
    UNTESTED: "#3d444d",
}
#: The anchor of the section every chapter ends its argument with (``## Verdicts``).
VERDICT_ANCHOR = "verdicts"


def chapter_titles(book_dir: str | Path) -> dict[str, str]:
    """Chapter id (the notebook's file name) -> its title (the first ``# `` heading), for every
    notebook in ``book_dir``; the title with MyST escapes (``\\$``) and markup removed."""
    titles = {}
    for path in sorted(Path(book_dir).glob("*.ipynb")):
        cells = json.loads(path.read_text("utf-8"))["cells"]
        text = "".join("".join(c["source"]) + "\n" for c in cells if c["cell_type"] == "markdown")
        heading = re.search(r"^# (.+)$", text, re.M)
        if heading is None:
            raise ModelInputError(f"{path.name}: title", "(none)", "a first-level heading '# Title' in a markdown cell")
        titles[path.stem] = re.sub(r"[\\*_`]", "", heading.group(1)).strip()
    return titles


def shorten(text: str, limit: int) -> str:
    """``text`` cut at the last word boundary before ``limit`` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def claim_rows(register: pd.DataFrame, chapter_titles: dict[str, str], short_chars: int = 110) -> pd.DataFrame:
    """One row per claim of ``register`` (as :func:`models.claims.load_register` returns it).

    ``chapter_titles`` maps a chapter id of the register to the title shown; a chapter id missing
    from it is an error (the page would otherwise link to a page it cannot name). The result is
    indexed by claim id with the columns ``article``, ``claim``, ``quote``, ``status``, ``share``
    (float in [0, 1] or NaN where no draws were recorded), ``chapter``, ``chapter_title``, ``link``,
    ``conditions``, ``flips_when``, ``kind`` and ``model``.
    """
    if not isinstance(short_chars, int) or short_chars < 20:
        raise ModelInputError("short_chars", short_chars, "an integer of at least 20 characters")
    unknown = sorted(set(register["chapter"]) - set(chapter_titles) - {""})
    if unknown:
        raise ModelInputError("chapter_titles", unknown, "a title for every chapter the register names")
    rows = pd.DataFrame(index=register.index)
    rows["article"] = register["article"].str.split("_").str[0]
    rows["quote"] = register["quote"]
    rows["claim"] = register["quote"].map(lambda q: shorten(q, short_chars))
    rows["status"] = [v if v else (PENDING if c else UNTESTED)
                      for v, c in zip(register["verdict"], register["chapter"])]
    bad = sorted(set(rows["status"]) - set(BADGE_COLOURS))
    if bad:
        raise ModelInputError("data/claims.csv: verdict", bad, f"one of {VERDICTS}")
    rows["share"] = _shares(register)
    rows["chapter"] = register["chapter"]
    rows["chapter_title"] = register["chapter"].map(lambda c: chapter_titles.get(c, ""))
    rows["link"] = register["chapter"].map(lambda c: f"{c}.html#{VERDICT_ANCHOR}" if c else "")
    for column in ("verdict_detail", "flips_when", "kind", "model"):
        rows[column if column != "verdict_detail" else "conditions"] = register[column]
    return rows


def _shares(register: pd.DataFrame) -> pd.Series:
    if "share_holds" not in register:
        return pd.Series(float("nan"), index=register.index)
    raw = register["share_holds"].replace("", float("nan"))
    shares = pd.to_numeric(raw, errors="coerce")
    bad = (shares.isna() & raw.notna()) | (shares.notna() & ~shares.between(0, 1))
    if bad.any():
        claim = bad.idxmax()
        raise ModelInputError(f"data/claims.csv: share_holds[{claim}]", register.loc[claim, "share_holds"],
                              "a share between 0 and 1, or empty")
    return shares


_CSS = """
.cl-dash{--cl-gap:.5rem;font-size:.92rem;max-width:100%}
.cl-dash .cl-filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;margin:.5rem 0 .75rem}
.cl-dash select{max-width:100%}
.cl-dash .cl-row{display:grid;grid-template-columns:2.8rem minmax(0,1fr) 8.6rem 3.6rem;
  gap:var(--cl-gap);align-items:start;padding:.35rem 0;border-bottom:1px solid #d0d7de}
.cl-dash .cl-head{font-weight:600;border-bottom:2px solid #8c959f}
.cl-dash .cl-row > *{min-width:0;overflow-wrap:anywhere}
.cl-dash details > summary{cursor:pointer}
.cl-dash details blockquote{margin:.4rem 0;padding-left:.6rem;border-left:3px solid #d0d7de}
.cl-dash details p{margin:.25rem 0}
.cl-dash .cl-badge{display:inline-block;padding:.1rem .5rem;border-radius:.8rem;color:#fff;
  font-size:.78rem;line-height:1.35;white-space:normal}
.cl-dash .cl-chapter{display:block;font-size:.8rem;margin-top:.1rem}
.cl-dash .cl-share{font-variant-numeric:tabular-nums;text-align:right}
.cl-dash .cl-row[hidden]{display:none}
@media (max-width:640px){
  .cl-dash .cl-row{grid-template-columns:2.6rem minmax(0,1fr)}
  .cl-dash .cl-row > .cl-badge-cell,.cl-dash .cl-row > .cl-share{grid-column:2}
  .cl-dash .cl-share{text-align:left}
  .cl-dash .cl-share:empty{display:none}
  .cl-dash .cl-head > .cl-badge-cell,.cl-dash .cl-head > .cl-share{display:none}
}
"""

_SCRIPT = """
(function(){
  var root=document.getElementById('cl-dash'); if(!root){return;}
  var art=root.querySelector('select[name=article]'), ver=root.querySelector('select[name=verdict]');
  var rows=root.querySelectorAll('.cl-row[data-status]'), count=root.querySelector('.cl-count');
  function apply(){
    var n=0;
    rows.forEach(function(r){
      var show=(!art.value||r.dataset.article===art.value)&&(!ver.value||r.dataset.status===ver.value);
      r.hidden=!show; if(show){n++;}
    });
    count.textContent=n+' of '+rows.length+' claims shown';
  }
  art.addEventListener('change',apply); ver.addEventListener('change',apply); apply();
})();
"""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def dashboard_html(rows: pd.DataFrame) -> str:
    """The dashboard for the rows of :func:`claim_rows`, as one self-contained HTML fragment."""
    e = html.escape
    articles = sorted(rows["article"].unique())
    statuses = [s for s in BADGE_COLOURS if s in set(rows["status"])]
    options_a = "".join(f'<option value="{e(a)}">article {e(a)}</option>' for a in articles)
    options_v = "".join(f'<option value="{e(_slug(s))}">{e(s)}</option>' for s in statuses)
    out = [f"<style>{_CSS}</style>", '<div class="cl-dash" id="cl-dash">',
           '<div class="cl-filters">',
           f'<label>Article <select name="article"><option value="">all</option>{options_a}</select></label>',
           f'<label>Verdict <select name="verdict"><option value="">all</option>{options_v}</select></label>',
           '<span class="cl-count" aria-live="polite"></span></div>',
           '<div class="cl-row cl-head"><span>id</span><span>claim (click for the full quote and the '
           'conditions) and the chapter that tests it</span><span class="cl-badge-cell">verdict</span>'
           '<span class="cl-share" title="share of Monte Carlo draws in which the verdict holds">'
           'draws</span></div>']
    for claim_id, r in rows.iterrows():
        colour = BADGE_COLOURS[r["status"]]
        detail = [f"<blockquote>{e(r['quote'])}</blockquote>",
                  f"<p><b>Article:</b> {e(r['article'])} · <b>kind:</b> {e(r['kind'])}</p>"]
        if r["conditions"]:
            detail.append(f"<p><b>Conditions:</b> {e(r['conditions'])}</p>")
        if r["flips_when"]:
            detail.append(f"<p><b>Flips when:</b> {e(r['flips_when'])}</p>")
        share = "" if pd.isna(r["share"]) else f"{100 * r['share']:.0f}%"
        link = (f'<span class="cl-chapter">→ <a class="cl-link" href="{e(r["link"])}">'
                f'{e(r["chapter_title"])}</a></span>' if r["link"] else "")
        out.append(
            f'<div class="cl-row" data-article="{e(r["article"])}" data-status="{e(_slug(r["status"]))}" '
            f'id="claim-{e(str(claim_id))}">'
            f'<span class="cl-id">{e(str(claim_id))}</span>'
            f'<div class="cl-text"><details><summary>{e(r["claim"])}</summary>{"".join(detail)}</details>{link}</div>'
            f'<span class="cl-badge-cell"><span class="cl-badge" style="background:{colour}">'
            f'{e(r["status"])}</span></span>'
            f'<span class="cl-share">{share}</span></div>')
    out += ["</div>", f"<script>{_SCRIPT}</script>"]
    return "\n".join(out)
