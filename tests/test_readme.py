"""What a newcomer runs first: README.md's tour prints what the README says it prints, and
the demo (``make demo``) prints what torch prints for the same code."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
import torch

import ember

from .test_seeds import _namespace, _Tape, same_text

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DEMO = ROOT / "examples" / "autograd_tour.py"
_FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)
_TORCH_NAMES = re.compile(r"\btorch\.(Size|float16|float32|float64|int8|int16|int32|int64|"
                          r"uint8|bool)\b")


def readme_examples() -> list[tuple[str, str]]:
    """(code, printed text) for each python block, the text being the block after it."""
    blocks = _FENCE.findall(README.read_text(encoding="utf-8"))
    examples = []
    for (lang, code), (next_lang, text) in zip(blocks, blocks[1:] + [("", "")]):
        if lang == "python":
            assert next_lang == "text", f"a python block without its output:\n{code}"
            examples.append((code, text))
    return examples


def run(code: str, ns: dict) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), ns)
    return out.getvalue()


def test_readme_opens_with_the_two_commands():
    text = README.read_text(encoding="utf-8")
    first_block = _FENCE.search(text)
    assert first_block is not None
    assert "make demo" in first_block[2] and "make test" in first_block[2]
    assert text.index("make demo") < text.index("## A short tour")
    assert "docs/architecture.md" in text


def test_readme_has_a_tour():
    examples = readme_examples()
    assert len(examples) >= 5
    code = "".join(c for c, _ in examples)
    for needed in ("requires_grad=True", ".backward(", ".grad", "torch.tensor("):
        assert needed in code


@pytest.mark.parametrize("library", ["ember", "torch"])
def test_readme_blocks_print_what_they_say(library):
    ns: dict = {}
    for code, text in readme_examples():
        if library == "torch":
            code = code.replace("import ember as torch", "import torch")
        got = run(code, ns)
        expected = text
        if library == "torch":  # torch prints torch. where ember prints ember.
            got = _TORCH_NAMES.sub(r"ember.\1", got)
        assert got == expected, f"{library} printed\n{got}\nfor\n{code}\nREADME says\n{text}"


def test_demo_prints_what_torch_prints():
    """examples/autograd_tour.py on ember, then on torch with ember's random draws."""
    code = compile(DEMO.read_text(encoding="utf-8"), str(DEMO), "exec")
    tape = _Tape()
    outputs = []
    for library in (ember, torch):
        ns = _namespace(library, tape)
        ns["__name__"] = "__main__"
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code, ns)
        outputs.append(out.getvalue())
    assert tape.draws and tape.pos == len(tape.draws)
    mine, theirs = same_text(*outputs)
    assert mine == theirs
    assert mine.count("=== ") >= 9
