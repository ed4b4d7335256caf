"""Start the app: the TensorFlow worker first (in the background), then `streamlit run app/main.py`,
in one process, so the first visitor does not wait ~5 s for TensorFlow to import.

    python -m app.serve [streamlit options, e.g. --server.port=8502]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from streamlit.web import cli

    from rnn_core.engine import prewarm

    prewarm()
    sys.argv = ["streamlit", "run", str(ROOT / "app" / "main.py"), *sys.argv[1:]]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
