"""The worker protocol: JSON Lines over the worker's stdin/stdout.

Standard library only: the desktop app imports this module, and it must never pull in
torch. Every message carries ``"v": PROTOCOL_VERSION``; unknown fields are ignored so
either side can grow without breaking the other.

UI -> worker::

    {"v":1,"op":"predict","id":"7f3c","image":{"format":"png","data_b64":"..."},
     "options":{"num_beams":1,"max_new_tokens":512}}
    {"v":1,"op":"cancel","id":"7f3c"}
    {"v":1,"op":"ping","id":"a1"}
    {"v":1,"op":"shutdown"}

Worker -> UI::

    {"v":1,"type":"status","state":"loading","model":"bundled"}
    {"v":1,"type":"status","state":"ready","device":"cpu","dtype":"float32","load_s":1.2}
    {"v":1,"type":"result","id":"7f3c","latex":"\\frac{a}{b}","confidence":0.93,
     "needs_check":false,"check_reason":null,"check_region":null, ...}
    {"v":1,"type":"error","id":"7f3c","code":"cancelled","message":"..."}
    {"v":1,"type":"pong","id":"a1"}

The self-check fields of ``result`` (model/selfcheck): ``confidence`` is the calibrated
probability in [0, 1] that the reading is exactly right (of readings shown 0.8, about
80 % were right on the PDF-snip dev set); ``needs_check`` says the user should look at
it before trusting it (the reading is still the best the model has, and is still
copied); ``check_reason`` is one line saying why (null when not flagged), e.g. "the
rendered result differs from the snip here"; ``check_region`` is null or
``[x0, y0, x1, y1]``, floats in 0..1 of the image the app sent, the part of the snip
where the rendered reading differs most. The fast render round-trip (matplotlib) runs
before the result is sent, so no later ``check`` message is sent by this worker; a
``{"type":"check","id":...}`` message with the same four fields is reserved for a slower
round-trip that finishes after the result.
"""

from __future__ import annotations

import base64
import enum
import json
from dataclasses import dataclass, field
from typing import Any

PROTOCOL_VERSION = 1
# One line holds one base64 image; 32 MiB leaves room for a 24 MB PNG.
MAX_LINE_BYTES = 32 * 1024 * 1024


class Op(str, enum.Enum):
    PREDICT = "predict"
    CANCEL = "cancel"
    PING = "ping"
    SHUTDOWN = "shutdown"


class ErrorCode(str, enum.Enum):
    """Closed set of failure kinds; the UI maps each to a short user message."""

    BAD_REQUEST = "bad_request"
    BAD_IMAGE = "bad_image"
    TOO_LARGE = "too_large"
    NOT_READY = "not_ready"
    CANCELLED = "cancelled"
    OOM = "oom"
    MODEL_UNAVAILABLE = "model_unavailable"
    INTERNAL = "internal"


class WorkerState(str, enum.Enum):
    LOADING = "loading"
    READY = "ready"
    BUSY = "busy"
    ERROR = "error"


class ProtocolError(ValueError):
    """A line that is not a valid message of this protocol."""

    def __init__(self, code: ErrorCode, message: str, request_id: str | None = None):
        super().__init__(message)
        self.code = code
        self.request_id = request_id


@dataclass(frozen=True)
class Request:
    op: Op
    id: str | None = None
    image: bytes | None = None
    options: dict[str, Any] = field(default_factory=dict)


def encode(message: dict[str, Any]) -> bytes:
    """One protocol line (UTF-8 JSON + newline) with the version stamped in."""
    payload = {"v": PROTOCOL_VERSION, **message}
    return (
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n"
    ).encode()


def decode(line: bytes | str) -> dict[str, Any]:
    """Parse one line into a dict, checking framing and version only."""
    if isinstance(line, bytes):
        if len(line) > MAX_LINE_BYTES:
            raise ProtocolError(ErrorCode.TOO_LARGE, "message exceeds 32 MiB")
        line = line.decode("utf-8", errors="replace")
    try:
        message = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"not JSON: {exc.msg}") from None
    if not isinstance(message, dict):
        raise ProtocolError(ErrorCode.BAD_REQUEST, "message must be a JSON object")
    if message.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(
            ErrorCode.BAD_REQUEST,
            f"protocol version {message.get('v')!r} unsupported (want {PROTOCOL_VERSION})",
            _as_id(message.get("id")),
        )
    return message


def _as_id(value: Any) -> str | None:
    return None if value is None else str(value)


def parse_request(line: bytes | str) -> Request:
    """Validate a UI -> worker line into a :class:`Request`."""
    message = decode(line)
    request_id = _as_id(message.get("id"))
    try:
        op = Op(message.get("op"))
    except ValueError:
        raise ProtocolError(
            ErrorCode.BAD_REQUEST, f"unknown op {message.get('op')!r}", request_id
        ) from None
    if op in (Op.PREDICT, Op.CANCEL) and request_id is None:
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"{op.value} needs an id")
    options = message.get("options") or {}
    if not isinstance(options, dict):
        raise ProtocolError(
            ErrorCode.BAD_REQUEST, "options must be an object", request_id
        )
    image = (
        _decode_image(message.get("image"), request_id) if op is Op.PREDICT else None
    )
    return Request(op=op, id=request_id, image=image, options=options)


def _decode_image(image: Any, request_id: str | None) -> bytes:
    if not isinstance(image, dict) or not isinstance(image.get("data_b64"), str):
        raise ProtocolError(
            ErrorCode.BAD_REQUEST, "predict needs image.data_b64", request_id
        )
    try:
        return base64.b64decode(image["data_b64"], validate=True)
    except ValueError:
        raise ProtocolError(
            ErrorCode.BAD_IMAGE, "image.data_b64 is not valid base64", request_id
        ) from None


# -- message builders (both sides use these so field names live in one place) --


def predict(
    request_id: str,
    image_bytes: bytes,
    options: dict[str, Any] | None = None,
    image_format: str = "png",
) -> bytes:
    return encode(
        {
            "op": Op.PREDICT.value,
            "id": request_id,
            "image": {
                "format": image_format,
                "data_b64": base64.b64encode(image_bytes).decode("ascii"),
            },
            "options": options or {},
        }
    )


def cancel(request_id: str) -> bytes:
    return encode({"op": Op.CANCEL.value, "id": request_id})


def ping(request_id: str) -> bytes:
    return encode({"op": Op.PING.value, "id": request_id})


def shutdown() -> bytes:
    return encode({"op": Op.SHUTDOWN.value})


def status(state: WorkerState, **details: Any) -> bytes:
    return encode({"type": "status", "state": state.value, **details})


def error(code: ErrorCode, message: str, request_id: str | None = None) -> bytes:
    retryable = code in (ErrorCode.CANCELLED, ErrorCode.NOT_READY, ErrorCode.OOM)
    return encode(
        {
            "type": "error",
            "id": request_id,
            "code": code.value,
            "message": message,
            "retryable": retryable,
        }
    )


def result(request_id: str, prediction: dict[str, Any]) -> bytes:
    return encode({"type": "result", "id": request_id, **prediction})


# The type of the reserved later message that carries a result's self-check keys
# (confidence, needs_check, check_reason, check_region) once a slower check finishes.
CHECK_MESSAGE = "check"
# The optional ``reason`` of a ``bad_image`` error whose image has no ink at all.
BLANK_REASON = "blank"


def pong(request_id: str | None) -> bytes:
    return encode({"type": "pong", "id": request_id})
