"""The browser's copy of plotly.js for the charts component (app/components/charts/).

Streamlit serves the files of app/static/ at /app/static/ (server.enableStaticServing). plotly.js is
not kept in the repository (4.6 MB): it is copied from the installed plotly package, which pins the
plotly.js version the figures are built for, when the server starts (app/serve.py) and when the
image is built (Dockerfile: the container's file system is read-only at run time).

    python -m app.components.assets     # put it in place now
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import plotly

STATIC = Path(__file__).resolve().parents[1] / "static"
PLOTLY_JS = STATIC / "plotly.min.js"


def source() -> Path:
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def ensure_static() -> Path | None:
    """Copy plotly.min.js into app/static/ unless the same file is already there; its path, or None
    (with the reason on stderr) when it is missing and cannot be written (a read-only file system
    whose image was built without it): the server still starts, the charts say they cannot draw."""
    src = source()
    if PLOTLY_JS.exists() and PLOTLY_JS.stat().st_size == src.stat().st_size:
        return PLOTLY_JS
    try:
        STATIC.mkdir(exist_ok=True)
        partial = PLOTLY_JS.with_suffix(".part")
        shutil.copyfile(src, partial)
        partial.replace(PLOTLY_JS)  # atomic: a browser never gets half a file
    except OSError as err:
        print(f"app/static/plotly.min.js could not be written ({err}): charts will not draw", file=sys.stderr)
        return None
    return PLOTLY_JS


if __name__ == "__main__":
    print(ensure_static())
