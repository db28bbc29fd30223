"""The inference worker: loads the model once, serves JSON Lines on stdin/stdout.

Run as ``snaptex worker`` or ``python -m model.worker --model DIR``. Never imports Qt.

Threads: a reader thread parses stdin, answers ``ping`` at once and sets the cancel
event for the running request; the main thread loads the model and runs predictions
one at a time. stdout is reserved for the protocol: at start-up the real stdout file
descriptor is duplicated for protocol use and fd 1 is pointed at stderr, so prints and
progress bars from libraries (even C code) can never corrupt the stream.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import sys
import threading
import time
from typing import BinaryIO

from model import protocol
from model.errors import SnapTexError
from model.images import open_image_bytes
from model.loading import add_model_arguments, load_recognizer
from model.options import InferenceOptions
from model.protocol import ErrorCode, Op, ProtocolError, Request, WorkerState

logger = logging.getLogger("model.worker")


class Channel:
    """The protocol output stream, safe to write from both threads."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, line: bytes) -> None:
        with self._lock:
            try:
                self._stream.write(line)
                self._stream.flush()
            except (BrokenPipeError, ValueError):
                pass  # the UI went away; the reader thread will see EOF and stop us


def reserve_stdout() -> BinaryIO:
    """Keep the real stdout for the protocol; send everything else written to fd 1
    (print, tqdm, C libraries) to stderr."""
    protocol_fd = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return os.fdopen(protocol_fd, "wb", buffering=0)


class Worker:
    """Request loop around one :class:`model.recognizer.Recognizer`."""

    def __init__(self, channel: Channel, args: argparse.Namespace) -> None:
        self.channel = channel
        self.args = args
        self.requests: queue.Queue[Request | None] = queue.Queue()
        self.cancel = threading.Event()
        self.current_id: str | None = None
        self.cancelled_ids: set[str] = set()
        self.state = WorkerState.LOADING
        self.load_error: str | None = None
        self.recognizer = None
        self._lock = threading.Lock()

    # -- reader thread --------------------------------------------------------

    def read(self, stdin: BinaryIO) -> None:
        for raw in iter(lambda: stdin.readline(protocol.MAX_LINE_BYTES + 1), b""):
            if not raw.strip():
                continue
            try:
                request = protocol.parse_request(raw)
            except ProtocolError as exc:
                self.channel.send(protocol.error(exc.code, str(exc), exc.request_id))
                continue
            if not self._handle_now(request):
                self.requests.put(request)
        self.requests.put(None)  # EOF: the UI is gone
        self.cancel.set()

    def _handle_now(self, request: Request) -> bool:
        """Answer what must not wait behind a running prediction."""
        if request.op is Op.PING:
            self.channel.send(protocol.pong(request.id))
            return True
        if request.op is Op.CANCEL:
            with self._lock:
                self.cancelled_ids.add(request.id)
                if request.id == self.current_id:
                    self.cancel.set()
            return True
        if self.state is WorkerState.LOADING:
            self.channel.send(
                protocol.error(
                    ErrorCode.NOT_READY, "the model is still loading", request.id
                )
            )
            return True
        return False

    # -- main thread ----------------------------------------------------------

    def load(self) -> None:
        self.channel.send(
            protocol.status(
                WorkerState.LOADING, model=str(self.args.model or "bundled")
            )
        )
        try:
            self.recognizer = load_recognizer(
                self.args.model, self.args.device, self.args.dtype, self.args.threads
            )
        except SnapTexError as exc:
            self.load_error = str(exc)
            self.state = WorkerState.ERROR
            self.channel.send(protocol.status(WorkerState.ERROR, message=str(exc)))
            return
        info = self.recognizer.info
        self.state = WorkerState.READY
        self.channel.send(
            protocol.status(
                WorkerState.READY,
                model=info.name,
                model_type=info.model_type,
                device=info.device,
                dtype=info.dtype,
                load_s=info.load_s,
            )
        )
        self.warm_up()

    def warm_up(self) -> None:
        """Right after ``ready``: requests that arrive meanwhile wait in the queue, and
        would have paid the same first-use cost themselves."""
        try:
            logger.info("warm-up recognition: %.2f s", self.recognizer.warm_up())
        except Exception:  # a failed warm-up only means a slower first request
            logger.warning("warm-up recognition failed", exc_info=True)

    def serve(self) -> None:
        while (request := self.requests.get()) is not None:
            if request.op is Op.SHUTDOWN:  # in order: queued work is finished first
                break
            with self._lock:
                if request.id in self.cancelled_ids:
                    self.cancelled_ids.discard(request.id)
                    self.channel.send(
                        protocol.error(
                            ErrorCode.CANCELLED,
                            "cancelled before it started",
                            request.id,
                        )
                    )
                    continue
                self.current_id = request.id
                self.cancel.clear()
            self.channel.send(self._answer(request))
            with self._lock:
                self.current_id = None
                self.cancelled_ids.discard(request.id)

    def _answer(self, request: Request) -> bytes:
        if self.recognizer is None:
            return protocol.error(
                ErrorCode.MODEL_UNAVAILABLE,
                self.load_error or "no model loaded",
                request.id,
            )
        try:
            return protocol.result(request.id, self._predict(request))
        except SnapTexError as exc:
            return _error_reply(exc, request.id)
        except ValueError as exc:
            return protocol.error(ErrorCode.BAD_REQUEST, str(exc), request.id)
        except MemoryError:
            return protocol.error(ErrorCode.OOM, "out of memory", request.id)
        except Exception as exc:
            if _is_oom(exc):
                _free_accelerator_memory()
                return protocol.error(
                    ErrorCode.OOM, "out of memory on the device", request.id
                )
            logger.exception("request %s failed", request.id)
            return protocol.error(
                ErrorCode.INTERNAL, f"{type(exc).__name__}: {exc}", request.id
            )

    def _predict(self, request: Request) -> dict:
        started = time.perf_counter()
        options = InferenceOptions.from_dict(request.options)
        image = open_image_bytes(request.image or b"")
        decoded = time.perf_counter()
        prediction = self.recognizer.recognize(
            image, options, should_stop=self.cancel.is_set
        )
        result = prediction.to_dict()
        result["timings_ms"]["decode_image"] = round((decoded - started) * 1e3, 2)
        result["timings_ms"]["total"] = round((time.perf_counter() - started) * 1e3, 2)
        result["model"] = self.recognizer.info.name
        return result


def _error_reply(exc: SnapTexError, request_id: str | None) -> bytes:
    """The protocol error for a domain error, with its optional ``reason`` field."""
    line = protocol.error(exc.code, str(exc), request_id)
    if exc.reason is None:
        return line
    return protocol.encode({**protocol.decode(line), "reason": exc.reason})


def _is_oom(exc: Exception) -> bool:
    return (
        "out of memory" in str(exc).lower() or type(exc).__name__ == "OutOfMemoryError"
    )


def _free_accelerator_memory() -> None:
    import torch  # loaded by then; kept out of the worker's start-up

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="snaptex worker",
        description="SnapTeX inference worker: JSON Lines requests on stdin, "
        f"replies on stdout (protocol v{protocol.PROTOCOL_VERSION}).",
    )
    add_model_arguments(parser)
    parser.add_argument("--log-level", default="INFO", help="stderr log level")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    channel = Channel(reserve_stdout())
    worker = Worker(channel, args)
    reader = threading.Thread(target=worker.read, args=(sys.stdin.buffer,), daemon=True)
    reader.start()
    worker.load()
    worker.serve()
    logger.info("worker shutting down")
    logging.shutdown()
    # The reader thread may sit in a blocking read of stdin; a normal interpreter exit
    # would then abort on the stdin buffer lock, so leave without finalisation.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
