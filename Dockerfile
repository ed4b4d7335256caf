# The RNN explorer: one Streamlit server and its TensorFlow worker process.
#   docker build -t rnn-explorer .
#   docker run --rm -p 8501:8501 rnn-explorer        # then open http://localhost:8501
# Several replicas behind a proxy: deploy/README.md.

# Pinned to a patch release of the slim Debian 12 image (pin the digest too where builds must be
# reproducible byte for byte).
FROM python:3.11.15-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_PORT=8501

WORKDIR /app

# Dependencies first, so code changes do not reinstall them. requirements.txt has exact pins and
# selects tensorflow-cpu on linux/x86_64. Then an unprivileged user with a home (Streamlit and Keras
# keep small files under ~); the code stays owned by root, so the server cannot change what it runs.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt \
    && useradd --no-log-init --create-home --uid 10001 --user-group app

# The server makes no outbound requests of its own but one: Streamlit looks up the machine's
# external IP (an HTTP request to a public service) for its start-up banner and whenever a
# websocket arrives with a foreign Origin, blocking its event loop meanwhile. No banner, and a
# proxy on a closed local port, make that lookup fail at once (set after pip, which needs the net).
ENV STREAMLIT_LOGGER_HIDE_WELCOME_MESSAGE=true \
    RNN_LESSONS_DIR=/app/lessons \
    HTTP_PROXY=http://127.0.0.1:9 \
    HTTPS_PROXY=http://127.0.0.1:9 \
    NO_PROXY=localhost,127.0.0.1

COPY .streamlit/config.toml .streamlit/config.toml
COPY pyproject.toml .
COPY rnn_core/ rnn_core/
COPY app/ app/
COPY lessons/ lessons/
# The project as a package (its dependencies are the pinned ones above): `app` and `rnn_core` import
# from anywhere, and `python -m rnn_core export` finds the app's command through its entry point.
RUN pip install --no-cache-dir --no-deps . && rm -rf build ./*.egg-info \
    && python -m app.stored_result
# (the tutorial's result, computed by TensorFlow now and stored in /app/.cache: the first page of a
# fresh container does not wait for TensorFlow to start; at run time the file system is read-only)

USER 10001:10001
EXPOSE 8501

# Streamlit answers "ok" on /_stcore/health once it accepts sessions. The slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('STREAMLIT_SERVER_PORT', '8501') + '/_stcore/health', timeout=4)"]

# Headless (no browser, no e-mail prompt), listening on every interface of the container. The
# public settings come from .streamlit/config.toml; the port from STREAMLIT_SERVER_PORT.
# `python -m app.serve` is `streamlit run app/main.py` that starts the TensorFlow worker first, so the
# first visitor does not wait for TensorFlow to import.
CMD ["python", "-m", "app.serve", "--server.headless=true", "--server.address=0.0.0.0"]
