"""Re-running a chapter with injected parameters."""
import nbformat
import pytest

from models.errors import ModelInputError
from models.rerun import parameter_names, parse_assignment, rerun_chapter


@pytest.fixture()
def book(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("floor_level = 100.0\nmembers = ['USA']", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print(floor_level * 2, members)"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "demo.ipynb")
    return tmp_path


def test_parameters_are_listed(book):
    names = parameter_names(nbformat.read(book / "demo.ipynb", as_version=4))
    assert names == {"floor_level": "100.0", "members": "['USA']"}


def test_injected_values_override_the_defaults(book, tmp_path):
    out = rerun_chapter("demo", {"floor_level": 60.0, "members": ["EU"]}, tmp_path / "out.ipynb", book_dir=book)
    executed = nbformat.read(out, as_version=4)
    assert "injected-parameters" in executed.cells[1].metadata["tags"]
    assert executed.cells[2].outputs[0]["text"].strip() == "120.0 ['EU']"


def test_unknown_parameter_and_chapter_are_named(book, tmp_path):
    with pytest.raises(ModelInputError, match="flor_level"):
        rerun_chapter("demo", {"flor_level": 1}, tmp_path / "x.ipynb", book_dir=book)
    with pytest.raises(ModelInputError, match="nochapter"):
        rerun_chapter("nochapter", {}, tmp_path / "x.ipynb", book_dir=book)


def test_assignments_parse_as_literals():
    assert parse_assignment("members=['USA', 'EU']") == ("members", ["USA", "EU"])
    with pytest.raises(ModelInputError, match="floor_level"):
        parse_assignment("floor_level=abc")
