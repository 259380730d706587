"""Seed 004's "Your First Network" and "Saving Models" cells, verbatim, on ember and on torch.

The seed trains on FashionMNIST, downloaded from the internet; these machines have none,
so the test lays out a small FashionMNIST (random images, labels that the pixels give away)
where the cells' ``datasets.FashionMNIST(root="data", download=True)`` finds it. The cells
run in one namespace per library, as in a notebook: ember with ``import torch`` giving
ember and ``torchvision`` giving ``ember.vision``; torch with a torchvision stand-in written
in the torch API (``tests/vision/torch_datasets.py``). torch's model starts from ember's
initial weights, so both runs must print the same losses and accuracies.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import ember
import ember.vision
from tests.vision.torch_datasets import torchvision_datasets_standin, write_fashion_mnist

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
N_TRAIN, N_TEST = 200, 100  # batches of 64: four in training, two in testing

DATA_CELL = '''
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets
from torchvision.transforms import ToTensor, Lambda, Compose
import matplotlib.pyplot as plt

# Download training data from open datasets.
training_data = datasets.FashionMNIST(
    root="data",
    train=True,
    download=True,
    transform=ToTensor(),
)

# Download test data from open datasets.
test_data = datasets.FashionMNIST(
    root="data",
    train=False,
    download=True,
    transform=ToTensor(),
)

batch_size = 64

# Create data loaders.
train_dataloader = DataLoader(training_data, batch_size=batch_size)
test_dataloader = DataLoader(test_data, batch_size=batch_size)

for X, y in test_dataloader:
    print("Shape of X [N, C, H, W]: ", X.shape)
    print("Shape of y: ", y.shape, y.dtype)
    break
'''
DATA_OUT = '''
Shape of X [N, C, H, W]: torch.Size([64, 1, 28, 28])
Shape of y: torch.Size([64]) torch.int64
'''

MODEL_CELL = '''
# Get cpu or gpu device for training.
device = "cuda" if torch.cuda.is_available() else "cpu"
print("Using {}".format(device))

# Define model
class NeuralNetwork(nn.Module):
    def __init__(self):
        super(NeuralNetwork, self).__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
            nn.ReLU()
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits

model = NeuralNetwork().to(device)
print(model)
'''
# The seed ran on a GPU ("Using cuda device"); the model's lines are what it printed.
MODEL_OUT = '''
NeuralNetwork(
  (flatten): Flatten(start_dim=1, end_dim=-1)
  (linear_relu_stack): Sequential(
    (0): Linear(in_features=784, out_features=512, bias=True)
    (1): ReLU()
    (2): Linear(in_features=512, out_features=512, bias=True)
    (3): ReLU()
    (4): Linear(in_features=512, out_features=10, bias=True)
    (5): ReLU()
  )
)
'''

# The seed's slide marks ``optimizer.zero_grad()`` with "← Important!", which is not code.
TRAIN_CELL = '''
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)

def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)

        # Compute prediction error
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        if batch % 100 == 0:
            loss, current = loss.item(), batch * len(X)
            print(f"loss: {loss:>7f} [{current:>5d}/{size:>5d}]")

def test(dataloader, model):
    size = len(dataloader.dataset)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= size
    correct /= size
    print(f"Test Error: \\n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \\n")

epochs = 5
for t in range(epochs):
    print(f"Epoch {t+1}\\n-----")
    train(train_dataloader, model, loss_fn, optimizer)
    test(test_dataloader, model)
print("Done!")
'''

SAVE_CELL = '''
torch.save(model.state_dict(), "model.pth")
print("Saved PyTorch Model State to model.pth")
'''
SAVE_OUT = "Saved PyTorch Model State to model.pth"

LOAD_CELL = '''
model = NeuralNetwork()
model.load_state_dict(torch.load("model.pth"))
'''


# ---- running the cells -------------------------------------------------------------------
def _namespace(library) -> dict:
    """A notebook namespace whose ``import torch`` (and ``torch.x``, ``torchvision.x``) gives
    ``library`` and its vision package."""
    vision = ember.vision if library is ember else torchvision_datasets_standin()

    def import_(name, globals=None, locals=None, fromlist=(), level=0):
        top, _, rest = name.partition(".")
        if level == 0 and top == "torch":
            if not rest or not fromlist:
                return library
            return importlib.import_module(f"{library.__name__}.{rest}")
        if level == 0 and top == "torchvision":
            found = vision
            for part in rest.split(".") if rest else ():
                found = getattr(found, part)
            return found
        return builtins.__import__(name, globals, locals, fromlist, level)

    bins = dict(vars(builtins))
    bins["__import__"] = import_
    return {"__builtins__": bins, "__name__": "__seed__"}


def _run(code: str, ns: dict) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # matplotlib's font-cache notes, if any
        exec(compile(code, "<cell>", "exec"), ns)
    return out.getvalue()


def _same_words(text: str) -> str:
    """Printed text with runs of spaces as one (the seed's slides lost some spaces) and
    torch's module name as ember prints it."""
    text = re.sub(r"\btorch\.(Size|int64)\b", r"ember.\1", text)
    return "\n".join(" ".join(line.split()) for line in text.strip().splitlines())


_NUMBER = re.compile(r"\d+\.\d+")


def _numbers(text: str) -> list[float]:
    return [float(x) for x in _NUMBER.findall(text)]


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    """Both notebooks run through every cell, in a folder holding the small FashionMNIST;
    returns what each cell printed, per library."""
    folder = tmp_path_factory.mktemp("seed004")
    write_fashion_mnist(folder / "data", N_TRAIN, N_TEST)
    printed = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setattr(ember.vision.datasets.utils, "urlopen", _no_network, raising=False)
        ember_ns, torch_ns = _namespace(ember), _namespace(torch)
        ember.manual_seed(0)
        for name, code in (("data", DATA_CELL), ("model", MODEL_CELL)):
            printed[name] = (_run(code, ember_ns), _run(code, torch_ns))
            if name == "data":  # the first test batch each cell printed the shapes of
                printed["batch"] = [(ns["X"].numpy(), ns["y"].numpy())
                                    for ns in (ember_ns, torch_ns)]
        # torch's network starts where ember's does
        start = {k: torch.from_numpy(v.numpy().copy())
                 for k, v in ember_ns["model"].state_dict().items()}
        torch_ns["model"].load_state_dict(start)
        printed["train"] = (_run(TRAIN_CELL, ember_ns), _run(TRAIN_CELL, torch_ns))
        printed["save"] = (_run(SAVE_CELL, ember_ns), "")
        printed["load"] = (_run(LOAD_CELL, ember_ns), "")
        printed["ember_model"] = ember_ns["model"]
        printed["torch_reads_ember_file"] = torch.load(folder / "model.pth")
    return printed


def _no_network(*args, **kwargs):
    raise AssertionError("a seed cell tried to download")


# ---- the tests ---------------------------------------------------------------------------
def test_data_cell_prints_the_seeds_shapes(notebooks):
    got, expected = notebooks["data"]
    assert _same_words(got) == _same_words(DATA_OUT)
    assert got == expected.replace("torch.", "ember.")


def test_data_cell_batches_as_torch(notebooks):
    (ex, ey), (tx, ty) = notebooks["batch"]
    assert ex.dtype == tx.dtype == np.float32 and ey.dtype == ty.dtype == np.int64
    np.testing.assert_array_equal(ex, tx)  # the first 64 test images / 255, in order
    np.testing.assert_array_equal(ey, ty)


def test_model_cell_prints_the_seeds_model(notebooks):
    got, expected = notebooks["model"]
    assert got.splitlines()[0] == "Using cpu"
    assert "\n".join(got.splitlines()[1:]) == MODEL_OUT.strip("\n")
    assert got == expected


def test_training_cell_learns_as_torch(notebooks):
    got, expected = notebooks["train"]
    lines = got.strip().splitlines()
    pattern = re.compile(r"Epoch \d\n-----\n"
                         r"loss: \d\.\d{6} \[    0/  200\]\n"
                         r"Test Error: \n Accuracy: \d+\.\d%, Avg loss: \d\.\d{6} \n")
    assert len(pattern.findall(got)) == 5, got
    assert lines[-1] == "Done!"
    # the same text as torch's, up to float32 rounding in the last printed digits
    assert _NUMBER.sub("#", got) == _NUMBER.sub("#", expected)
    np.testing.assert_allclose(_numbers(got), _numbers(expected), rtol=1e-4, atol=2e-6)
    # the network learns the pixel-coded labels: the loss falls
    losses = [float(x) for x in re.findall(r"loss: (\d\.\d+)", got)]
    assert losses[-1] < losses[0]


def test_saving_and_loading_cells(notebooks):
    assert notebooks["save"][0].strip() == SAVE_OUT
    assert notebooks["load"][0] == ""
    reloaded = notebooks["ember_model"].state_dict()
    from_torch = notebooks["torch_reads_ember_file"]
    assert list(reloaded) == list(from_torch)
    for key, value in reloaded.items():
        np.testing.assert_array_equal(value.numpy(), from_torch[key].numpy())


def test_cells_are_the_seeds():
    """Every code line here is a line of seed 004, and the outputs are the seed's."""
    found = sorted(SEEDS.glob("004_*.txt"))
    assert len(found) == 1, f"seed 004 not found in {SEEDS}"
    text = found[0].read_text(encoding="utf-8").replace(" ← Important!", "")
    seed_lines = {line.strip() for line in text.splitlines()}
    for cell in (DATA_CELL, MODEL_CELL, TRAIN_CELL, SAVE_CELL, LOAD_CELL):
        for line in cell.splitlines():
            if line.strip():
                assert line.strip() in seed_lines, line
    for out in (DATA_OUT, MODEL_OUT, SAVE_OUT):
        for line in out.strip().splitlines():
            assert line.strip() in seed_lines, line
