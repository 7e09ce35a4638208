"""Re-running a chapter with injected parameters."""
import nbformat
import pytest

from models.errors import ModelInputError, RerunError
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


def test_rerun_of_a_rerun_replaces_the_injected_cell(book, tmp_path):
    first = rerun_chapter("demo", {"floor_level": 60.0}, book / "demo_once.ipynb", book_dir=book)
    second = rerun_chapter("demo_once", {"floor_level": 70.0}, tmp_path / "twice.ipynb", book_dir=book)
    cells = nbformat.read(second, as_version=4).cells
    injected = [c for c in cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert first.exists() and len(injected) == 1 and "70.0" in injected[0].source
    assert cells[-1].outputs[0]["text"].strip() == "140.0 ['USA']"


def test_a_failing_chapter_leaves_no_file(book, tmp_path):
    nb = nbformat.read(book / "demo.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("1 / 0"))
    nbformat.write(nb, book / "failing.ipynb")
    out = tmp_path / "bad.ipynb"
    with pytest.raises(RerunError, match="ZeroDivisionError"):
        rerun_chapter("failing", {"floor_level": 1.0}, out, book_dir=book)
    assert not out.exists() and not list(tmp_path.glob(".bad.*"))


def test_output_may_not_be_the_chapter_itself(book):
    with pytest.raises(ModelInputError, match="chapter's own source"):
        rerun_chapter("demo", {}, book / "demo.ipynb", book_dir=book)
