"""Train the notebook's baseline headless, exactly as a student's first run does: `python run_notebook.py`, up to
the cell tagged "save" (it writes encoder.pth, latent.pth, decoder.pth and result.csv), without grading."""
import os
import subprocess
import sys
from pathlib import Path


def train_like_the_notebook(repo: Path, epochs: int | None, env: dict | None = None,
                            timeout: float = 3600) -> subprocess.CompletedProcess:
    """Run in repo (a copy of this repository, run_notebook.py included); epochs None: the notebook's own."""
    env = {k: v for k, v in (os.environ if env is None else env).items() if k != "VAE_EPOCHS"}
    if epochs is not None:
        env["VAE_EPOCHS"] = str(epochs)
    return subprocess.run([sys.executable, "run_notebook.py", "--stop-after", "save"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=timeout)
