"""The worker protocol: round trips, versioning and malformed lines."""

import base64
import json

import pytest

from model import protocol
from model.protocol import ErrorCode, Op, ProtocolError


def test_predict_round_trip():
    line = protocol.predict("7f", b"\x89PNG", {"num_beams": 2})
    request = protocol.parse_request(line)
    assert (request.op, request.id, request.image, request.options) == (
        Op.PREDICT, "7f", b"\x89PNG", {"num_beams": 2})
    assert line.endswith(b"\n") and line.count(b"\n") == 1


@pytest.mark.parametrize(("line", "code"), [
    (b"garbage", ErrorCode.BAD_REQUEST),
    (b"[1, 2]", ErrorCode.BAD_REQUEST),
    (b'{"v": 2, "op": "ping"}', ErrorCode.BAD_REQUEST),
    (b'{"op": "ping"}', ErrorCode.BAD_REQUEST),
    (b'{"v": 1, "op": "fly", "id": "1"}', ErrorCode.BAD_REQUEST),
    (b'{"v": 1, "op": "predict"}', ErrorCode.BAD_REQUEST),
    (b'{"v": 1, "op": "predict", "id": "1"}', ErrorCode.BAD_REQUEST),
    (b'{"v": 1, "op": "predict", "id": "1", "image": {"data_b64": "!!"}}', ErrorCode.BAD_IMAGE),
    (b'{"v": 1, "op": "predict", "id": "1", "image": {"data_b64": ""}, "options": 3}',
     ErrorCode.BAD_REQUEST),
    (b'{"v": 1, "op": "cancel"}', ErrorCode.BAD_REQUEST),
])
def test_malformed_lines_raise_typed_errors(line, code):
    with pytest.raises(ProtocolError) as info:
        protocol.parse_request(line)
    assert info.value.code is code


def test_unknown_fields_are_ignored():
    line = json.dumps({"v": 1, "op": "ping", "id": "a", "future": True})
    assert protocol.parse_request(line).op is Op.PING


def test_error_and_result_messages():
    error = json.loads(protocol.error(ErrorCode.CANCELLED, "stop", "9"))
    assert error == {"v": 1, "type": "error", "id": "9", "code": "cancelled",
                     "message": "stop", "retryable": True}
    result = json.loads(protocol.result("9", {"latex": "x"}))
    assert result["type"] == "result" and result["latex"] == "x"


def test_image_is_base64():
    line = json.loads(protocol.predict("1", b"abc"))
    assert base64.b64decode(line["image"]["data_b64"]) == b"abc"
