"""Serve a page of bench/pages with the app's own start-up changes to Streamlit (app/serve.py
patch_streamlit), without the TensorFlow worker: `python -m bench.pages.serve PAGE [streamlit flags]`."""

import sys

from streamlit.web import cli

from app import serve


def main() -> None:
    serve.patch_streamlit()
    page, *flags = sys.argv[1:]
    sys.argv = ["streamlit", "run", page, *flags]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
