"""The worker process: the only place TensorFlow is imported. Serves requests over a pipe."""

from __future__ import annotations

import os
import traceback


def _handle(op: str, args: dict):
    from . import tf_model

    if op == "forward":
        trace = tf_model.forward(args["X"], args["weights"], args["activation"], args.get("xla", False))
        return trace
    if op == "simple_rnn":
        return tf_model.simple_rnn_hidden(
            args["X"], args["weights"], args["activation"], args.get("initial_state")
        )
    if op == "info":
        import tensorflow as tf

        return {"pid": os.getpid(), "tf_version": tf.__version__, "traces": tf_model.trace_count()}
    raise ValueError(f"unknown operation {op!r}")


def main() -> None:
    """Entry point of `python -m rnn_core.worker`: serve the socket the engine passed down."""
    from multiprocessing.connection import Connection

    serve(Connection(int(os.environ["RNN_WORKER_FD"])))


def serve(conn) -> None:
    """Import TensorFlow, say ready, then answer (op, args) requests until the pipe closes."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from . import tf_model  # noqa: F401  (the slow import happens here, once)

    conn.send(("ready", os.getpid()))
    while True:
        try:
            op, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("ok", _handle(op, args)))
        except Exception as err:  # the caller gets the message; the worker lives on
            detail = traceback.format_exception_only(type(err), err)[-1].strip()
            conn.send(("error", detail))


if __name__ == "__main__":
    main()
