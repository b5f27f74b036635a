"""Folders of the repository this package lives in (installed editable: `pip install -e scripts`)."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROMPTS = REPO / "prompts"
WEIGHTS = REPO / "weights"
