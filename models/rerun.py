"""Re-run a chapter with your own parameters, with papermill.

The chapter's cell tagged ``parameters`` holds its defaults; :func:`rerun_chapter` checks the
names you give against it and hands the notebook to ``papermill.execute_notebook``, which adds a
cell tagged ``injected-parameters`` after it (replacing any such cell already there, so a re-run
of a re-run takes the new values), executes the notebook in the book's folder and writes the
executed copy. The copy is written to a temporary name beside the output and renamed at the
end, so a failed run leaves no half-written file.
"""
from __future__ import annotations

import ast
import os
import tempfile
from pathlib import Path

import nbformat

from .errors import ModelInputError, RerunError

BOOK = Path(__file__).resolve().parents[1] / "book"


def parameter_names(notebook) -> dict[str, str]:
    """The names assigned in the notebook's ``parameters`` cell, with their default source text."""
    cell = _parameters_cell(notebook)
    names = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = ast.get_source_segment(cell.source, node.value)
    return names


def _parameters_cell(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    raise ModelInputError("notebook", "no cell tagged 'parameters'", "a chapter with a parameters cell")


def chapter_path(chapter: str, book_dir: str | Path = BOOK) -> Path:
    """``book_dir/<chapter>.ipynb``, or a :class:`ModelInputError` listing the chapters."""
    book_dir = Path(book_dir)
    if not isinstance(chapter, str) or not chapter or "/" in chapter or "\\" in chapter:
        raise ModelInputError("chapter", chapter, "a chapter's file stem, e.g. 'price_floors'")
    path = book_dir / f"{chapter}.ipynb"
    if not path.is_file():
        chapters = sorted(p.stem for p in book_dir.glob("*.ipynb"))
        raise ModelInputError("chapter", chapter, f"one of {chapters}")
    return path


def rerun_chapter(chapter: str, overrides: dict[str, object], output: str | Path,
                  timeout: int = 600, book_dir: str | Path = BOOK) -> Path:
    """Execute ``book/<chapter>.ipynb`` with ``overrides`` and write it to ``output``.

    Parameters
    ----------
    chapter : str
        The chapter's file stem, e.g. ``"price_floors"``.
    overrides : dict
        Parameter name -> Python value; every name must exist in the parameters cell.
    output : path
        Where to write the executed notebook (its folder must exist; the caller decides whether
        an existing file may be replaced: ``cmbloc chapter`` refuses unless ``--force``).
    book_dir : path
        The folder of the chapters (default: the repository's ``book/``).

    Raises
    ------
    ModelInputError
        Unknown chapter or parameter, or an output that is the chapter itself.
    RerunError
        A cell of the chapter failed; names the chapter and the error.
    """
    import papermill

    path = chapter_path(chapter, book_dir)
    notebook = nbformat.read(path, as_version=4)
    known = parameter_names(notebook)
    for name in overrides:
        if name not in known:
            raise ModelInputError("parameter", name, f"a name of the chapter's parameters cell {sorted(known)}")
    output = Path(output)
    if output.resolve() == path.resolve():
        raise ModelInputError("output", str(output), "a path other than the chapter's own source")
    fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".partial.ipynb", dir=output.parent)
    os.close(fd)
    try:
        papermill.execute_notebook(str(path), tmp, parameters=dict(overrides), kernel_name="python3",
                                   cwd=str(path.parent), execution_timeout=timeout, progress_bar=False,
                                   log_output=False, report_mode=False)
        os.replace(tmp, output)
    except papermill.PapermillExecutionError as exc:
        raise RerunError(f"chapter {chapter!r} failed with {overrides}: {exc.ename}: {exc.evalue}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return output


def parse_assignment(text: str) -> tuple[str, object]:
    """``"floor_level=120"`` -> ``("floor_level", 120)``; values are Python literals."""
    if "=" not in text:
        raise ModelInputError("-p", text, "NAME=VALUE with VALUE a Python literal, e.g. floor_level=120")
    name, value = text.split("=", 1)
    name = name.strip()
    if not name.isidentifier():
        raise ModelInputError("-p", text, "NAME=VALUE with NAME a Python name, e.g. floor_level=120")
    try:
        return name, ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise ModelInputError(f"-p {name}", value, "a Python literal: 120, 0.5, 'ndpr', ['USA', 'EU']") from None
