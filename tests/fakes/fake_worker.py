"""A stdlib-only stand-in for ``model.worker`` speaking model/protocol.py.

Scripted by flags so worker-client and controller tests run in milliseconds:

  --behaviour ok             answer every predict with a result (after --delay seconds)
  --behaviour crash          exit(3) when a predict arrives
  --behaviour garbage        write a non-protocol line before each answer
  --behaviour error          answer every predict with an ``internal`` error
  --behaviour blank          answer every predict with ``bad_image``, reason "blank"
  --behaviour never          accept predicts and never answer (nor honour cancel)
  --behaviour unavailable    report model_unavailable while loading and exit(2)
  --behaviour load-error     report status "error" (as model.worker does when the model
                             cannot load), then answer predicts with model_unavailable
  --crash-times N            with a --counter file: crash on the first N starts, then ok

Self-check fields (all optional, as from an older or newer worker):
  --confidence X             the result's confidence (default 0.875)
  --needs-check              the result carries needs_check true ...
  --check-reason TEXT        ... with this check_reason
  --check-region X0,Y0,X1,Y1 ... and this check_region (fractions of the image)
  --late-check               after the result, send a ``check`` message for the same id
                             (--late-delay s later) flagging it with the fields above;
                             the result itself then carries no self-check fields
  --extra-key                add an unknown key to every result (clients ignore it)

Cancels are honoured during the --delay wait (unless --behaviour never).
--record FILE appends every request line received, for assertions on what was sent.
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
import time
from pathlib import Path

from model import protocol
from model.protocol import ErrorCode, WorkerState


def _parse(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--behaviour", default="ok")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--load-delay", type=float, default=0.0)
    parser.add_argument("--latex", default="\\frac{a}{b}+{n}")
    parser.add_argument("--record")
    parser.add_argument("--counter")
    parser.add_argument("--crash-times", type=int, default=0)
    parser.add_argument("--confidence", type=float, default=0.875)
    parser.add_argument("--needs-check", action="store_true")
    parser.add_argument("--check-reason")
    parser.add_argument("--check-region")
    parser.add_argument("--late-check", action="store_true")
    parser.add_argument("--late-delay", type=float, default=0.0)
    parser.add_argument("--extra-key", action="store_true")
    args, _unknown = parser.parse_known_args(argv)  # ignore --model/--device/--threads
    return args


def _effective_behaviour(args) -> str:
    if not args.counter:
        return args.behaviour
    counter = Path(args.counter)
    starts = int(counter.read_text() or 0) + 1 if counter.exists() else 1
    counter.write_text(str(starts))
    return "crash" if starts <= args.crash_times else args.behaviour


def _send(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _reader(requests: queue.Queue, cancels: dict, record: str | None) -> None:
    for line in sys.stdin.buffer:
        if record:
            with Path(record).open("a", encoding="utf-8") as fh:
                fh.write(line.decode().strip() + "\n")
        try:
            request = protocol.parse_request(line)
        except protocol.ProtocolError as exc:
            _send(protocol.error(exc.code, str(exc), exc.request_id))
            continue
        if request.op is protocol.Op.CANCEL:
            cancels.setdefault(request.id, threading.Event()).set()
        else:
            requests.put(request)
    requests.put(None)


def _answer(request, args, behaviour: str, cancels: dict, count: int) -> None:
    cancelled = cancels.setdefault(request.id, threading.Event())
    if behaviour == "never":
        return
    if behaviour == "load-error":
        _send(
            protocol.error(
                ErrorCode.MODEL_UNAVAILABLE, "no model in /nowhere", request.id
            )
        )
        return
    if behaviour == "crash":
        os._exit(3)  # die like a segfaulting model would: no clean-up, no reply
    if cancelled.wait(args.delay):
        _send(protocol.error(ErrorCode.CANCELLED, "cancelled", request.id))
        return
    if behaviour == "garbage":
        _send(b"this is not json\n")
    if behaviour == "error":
        _send(protocol.error(ErrorCode.INTERNAL, "scripted failure", request.id))
        return
    if behaviour == "blank":
        line = protocol.error(
            ErrorCode.BAD_IMAGE, "no equation found: the image is blank", request.id
        )
        _send(protocol.encode({**protocol.decode(line), "reason": "blank"}))
        return
    latex = args.latex.replace("{n}", str(count))
    prediction = {
        "latex": latex,
        "latex_raw": latex.replace("{", " { "),
        "confidence": args.confidence,
        "n_tokens": 7,
        "timings_ms": {"total": 1.0},
        "warnings": [],
        "options": request.options,
    }
    if args.extra_key:
        prediction["a_key_from_the_future"] = {"nested": [1, 2]}
    if not args.late_check:
        prediction.update(_check_fields(args))
    _send(protocol.result(request.id, prediction))
    if args.late_check:
        time.sleep(args.late_delay)
        check = {"type": protocol.CHECK_MESSAGE, "id": request.id, **_check_fields(args)}
        _send(protocol.encode(check))


def _check_fields(args) -> dict:
    """The self-check keys of the worker contract, from the flags."""
    if not (args.needs_check or args.check_reason or args.check_region):
        return {}
    region = (
        [float(v) for v in args.check_region.split(",")] if args.check_region else None
    )
    return {
        "confidence": args.confidence,
        "needs_check": bool(args.needs_check),
        "check_reason": args.check_reason,
        "check_region": region,
    }


def main(argv=None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    behaviour = _effective_behaviour(args)
    _send(protocol.status(WorkerState.LOADING, model="fake"))
    time.sleep(args.load_delay)
    if behaviour == "unavailable":
        _send(protocol.error(ErrorCode.MODEL_UNAVAILABLE, "no model in /nowhere"))
        return 2
    if behaviour == "load-error":  # like model.worker: report, keep serving errors
        _send(protocol.status(WorkerState.ERROR, message="no model in /nowhere"))
    else:
        _send(
            protocol.status(
                WorkerState.READY, device="cpu", dtype="float32", load_s=0.0
            )
        )
    requests: queue.Queue = queue.Queue()
    cancels: dict = {}
    threading.Thread(
        target=_reader, args=(requests, cancels, args.record), daemon=True
    ).start()
    count = 0
    while (request := requests.get()) is not None:
        if request.op is protocol.Op.SHUTDOWN:
            # os._exit: a daemon thread blocked in stdin.read makes a normal
            # interpreter shutdown abort ("could not acquire lock for stdin").
            sys.stdout.flush()
            os._exit(0)
        if request.op is protocol.Op.PING:
            _send(protocol.pong(request.id))
        elif request.op is protocol.Op.PREDICT:
            count += 1
            _answer(request, args, behaviour, cancels, count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
