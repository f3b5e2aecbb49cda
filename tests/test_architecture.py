"""The shape of the package: the lookup path stays light and imports flow one way."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lower layers must not import higher ones (DESIGN.md: errors -> vocab/subwords/corpus ->
# embeddings/store -> trainers, align, ... -> formats, eval -> cli). formats.store is the
# persistence layer of the store itself and sits with it.
LAYERS = {
    "wordvec.errors": 0,
    "wordvec.progress": 0,
    "wordvec.textio": 1,
    "wordvec.subwords": 1,
    "wordvec.subword_kernels": 1,
    "wordvec.sampling_kernels": 1,
    "wordvec.vocab": 2,
    "wordvec.corpus": 3,
    "wordvec.oov": 3,
    "wordvec.oov_kernels": 3,
    "wordvec.embeddings": 3,
    "wordvec.formats.store": 4,
    "wordvec.store": 5,
    "wordvec.quantized": 3,
    "wordvec.hash_embeddings": 3,
    "wordvec.compress_kernels": 2,
    "wordvec.compress": 6,
    "wordvec.cooccurrence": 4,
    "wordvec.pu": 4,
    "wordvec.combine": 6,
    "wordvec.compass": 5,
    "wordvec.training": 4,
    "wordvec.cmow_kernels": 1,
    "wordvec.cmow": 4,
    "wordvec.sentences": 5,
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] != "wordvec":
        parts.insert(0, "wordvec")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("wordvec")}


def test_imports_flow_one_way() -> None:
    for folder in ("wordvec", "formats", "eval", "cli"):
        for path in (ROOT / folder).glob("*.py"):
            module = _module_name(path)
            if module not in LAYERS:
                continue
            for imported in _imports(path):
                if imported in LAYERS:
                    assert LAYERS[imported] <= LAYERS[module], f"{module} imports {imported}"


def test_lookup_path_needs_only_numpy_and_h5py(planted_store: Path) -> None:
    code = (
        "import sys, wordvec\n"
        "v = wordvec.load(sys.argv[1])\n"
        "v['hello']; v['helo']; v.most_similar('hello'); v.analogy('man', 'king', 'woman')\n"
        "wordvec.encode(v, ['hello world', 'world hello'])\n"
        "from wordvec.cli import main\n"
        "heavy = [m for m in ('numba', 'scipy', 'gensim') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(planted_store)], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def test_namespace_is_one_package() -> None:
    import wordvec.cli
    import wordvec.eval
    import wordvec.formats

    for package in (wordvec.formats, wordvec.eval, wordvec.cli):
        assert Path(package.__file__).resolve().parent.parent == ROOT
