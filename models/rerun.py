"""Re-run a chapter with your own parameters (the papermill convention, without papermill).

The chapter's cell tagged ``parameters`` holds its defaults; :func:`rerun_chapter` inserts a
cell tagged ``injected-parameters`` right after it that overrides the names you give, executes
the notebook in the book's folder, and writes the executed copy where you ask.
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .errors import ModelInputError

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
        Where to write the executed notebook.
    book_dir : path
        The folder of the chapters (default: the repository's ``book/``).
    """
    book_dir = Path(book_dir)
    path = book_dir / f"{chapter}.ipynb"
    if not path.exists():
        chapters = sorted(p.stem for p in book_dir.glob("*.ipynb"))
        raise ModelInputError("chapter", chapter, f"one of {chapters}")
    notebook = nbformat.read(path, as_version=4)
    known = parameter_names(notebook)
    for name in overrides:
        if name not in known:
            raise ModelInputError("parameter", name, f"a name of the chapter's parameters cell {sorted(known)}")
    source = "# Parameters injected by `cmbloc chapter`\n" + "\n".join(
        f"{name} = {value!r}" for name, value in overrides.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    position = notebook.cells.index(_parameters_cell(notebook)) + 1
    notebook.cells.insert(position, cell)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(book_dir)}}).execute()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, output)
    return output


def parse_assignment(text: str) -> tuple[str, object]:
    """``"floor_level=120"`` -> ``("floor_level", 120)``; values are Python literals."""
    if "=" not in text:
        raise ModelInputError("-p", text, "NAME=VALUE with VALUE a Python literal, e.g. floor_level=120")
    name, value = text.split("=", 1)
    try:
        return name.strip(), ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        raise ModelInputError(f"-p {name.strip()}", value, "a Python literal: 120, 0.5, 'ndpr', ['USA', 'EU']") from None
