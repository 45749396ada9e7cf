"""The served-reward wire format (videobench-reward/1) in process, with hand values: what encode writes (base64 of
bytes worked by hand: 01 02 03 -> "AQID"), what decode gives back (dtype, shape, None <-> NaN), and the exact
ProtocolError text for each malformed field (the server answers it as a 400; anything else would be a 500)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from videobench.rewards.base import Clip, Sampling
from videobench.rewards.served_protocol import (
    ProtocolError,
    decode_frames,
    decode_scores,
    encode_frames,
    encode_item,
    encode_scores,
    parse_items,
    parse_pair_items,
    sampling_from,
)

#: one frame of two pixels, bytes 1..6; base64 by hand: 000000 010000 001000 000011 | 000001 000000 010100 000110
SIX = {"shape": [1, 1, 2, 3], "dtype": "uint8", "data": "AQIDBAUG"}


def _refused(call, *args) -> str:
    with pytest.raises(ProtocolError) as err:
        call(*args)
    return str(err.value)


def test_frames_encode_from_torch_or_numpy_and_decode_to_uint8_tensors():
    want = {"shape": [1, 1, 1, 3], "dtype": "uint8", "data": "AQID"}
    assert encode_frames(torch.tensor([[[[1, 2, 3]]]], dtype=torch.uint8)) == want
    assert encode_frames(np.array([[[[1, 2, 3]]]], dtype=np.uint8)) == want
    back = decode_frames(SIX, "items[0]")
    assert back.dtype == torch.uint8 and tuple(back.shape) == (1, 1, 2, 3)
    assert back.tolist() == [[[[1, 2, 3], [4, 5, 6]]]]


@pytest.mark.parametrize("frames, message", [
    (np.zeros((1, 1, 1, 3), np.float32), "frames must be uint8 (T, H, W, 3), got float32 (1, 1, 1, 3)"),
    (np.zeros((1, 1, 1, 4), np.uint8), "frames must be uint8 (T, H, W, 3), got uint8 (1, 1, 1, 4)"),
    (np.zeros((1, 1, 3), np.uint8), "frames must be uint8 (T, H, W, 3), got uint8 (1, 1, 3)"),
])
def test_frames_that_are_not_uint8_thwc_are_not_sent(frames, message):
    assert _refused(encode_frames, frames) == message


@pytest.mark.parametrize("payload, message", [
    ([1, 2, 3], "items[2].frames must be {shape, dtype: uint8, data}"),
    ({**SIX, "dtype": "float32"}, "items[2].frames must be {shape, dtype: uint8, data}"),
    ({**SIX, "shape": [2, 3]}, "items[2].frames.shape must be [T, H, W, 3] with positive sizes, got [2, 3]"),
    ({**SIX, "shape": [1, 2, 3]}, "items[2].frames.shape must be [T, H, W, 3] with positive sizes, got [1, 2, 3]"),
    ({**SIX, "shape": [1, 1, 6, 1]},
     "items[2].frames.shape must be [T, H, W, 3] with positive sizes, got [1, 1, 6, 1]"),
    ({**SIX, "shape": [0, 1, 2, 3], "data": ""},
     "items[2].frames.shape must be [T, H, W, 3] with positive sizes, got [0, 1, 2, 3]"),
    ({**SIX, "shape": [-1, 1, 2, 3]},
     "items[2].frames.shape must be [T, H, W, 3] with positive sizes, got [-1, 1, 2, 3]"),
    ({**SIX, "shape": [1.0, 1, 2, 3]},
     "items[2].frames.shape must be [T, H, W, 3] with positive sizes, got [1.0, 1, 2, 3]"),
    # JSON true is an int to Python; it used to reach torch's reshape and end the request in a TypeError (a 500)
    ({**SIX, "shape": [True, 1, 2, 3]},
     "items[2].frames.shape must be [T, H, W, 3] with positive sizes, got [True, 1, 2, 3]"),
    ({**SIX, "data": None}, "items[2].frames.data must be base64 text"),
    ({**SIX, "data": "AQID*BAUG"}, "items[2].frames.data is not valid base64"),  # not silently dropped
    ({**SIX, "data": "AQID"}, "items[2].frames: 3 bytes for shape [1, 1, 2, 3] (6 expected)"),
])
def test_malformed_frames_are_refused_naming_the_field(payload, message):
    assert _refused(decode_frames, payload, "items[2]") == message


def test_a_single_frame_of_one_pixel_decodes():
    assert decode_frames({"shape": [1, 1, 1, 3], "dtype": "uint8", "data": "AQID"}, "x").tolist() == [[[[1, 2, 3]]]]


def _clip(**extra) -> Clip:
    return Clip(path="/videos/a.mp4", content_hash="h1", frames=torch.tensor([[[[1, 2, 3]]]], dtype=torch.uint8),
                source_fps=24.0, total_frames=48, **extra)


def test_items_carry_every_field_each_send_mode_needs():
    base = {"prompt": "a cat", "content_hash": "h1", "path": "/videos/a.mp4", "source_fps": 24.0, "total_frames": 48}
    frames = {"shape": [1, 1, 1, 3], "dtype": "uint8", "data": "AQID"}
    assert encode_item(_clip(indices=np.array([0, 12, 24])), "a cat", "frames") == {
        **base, "indices": [0, 12, 24], "frames": frames}
    assert encode_item(_clip(indices=np.array([[0, 12]])), "a cat", "path") == {**base, "indices": [0, 12]}  # flat
    assert encode_item(_clip(), "a cat", "file", b"\x01\x02\x03") == {**base, "file": "AQID"}
    item = encode_item(_clip(indices=torch.tensor([3])), "a cat", "path")
    assert item == {**base, "indices": [3]} and type(item["indices"][0]) is int
    json.dumps(item)  # plain JSON types only
    assert _refused(encode_item, _clip(), "a cat", "file") == "send=file needs the file's bytes"


@pytest.mark.parametrize("body, message", [
    ([], 'a score request is a JSON object {"items": [...]}'),
    ({"items": {}}, 'a score request is a JSON object {"items": [...]}'),
    ({"items": [{"prompt": "a"}, 3]}, "items[1] is not an object"),
    ({"items": [{"prompt": 5}]}, "items[0].prompt must be text"),
    ({"items": [{"prompt": "a", "content_hash": 5, "path": "/v"}]}, "items[0].content_hash and .path must be text"),
    ({"items": [{"prompt": "a", "content_hash": "h", "path": 5}]}, "items[0].content_hash and .path must be text"),
])
def test_malformed_score_requests_are_refused_naming_the_field(body, message):
    assert _refused(parse_items, body) == message


def test_a_score_request_gives_its_items():
    items = [{"prompt": "a"}, {"prompt": "b", "content_hash": "h", "path": "/v", "frames": SIX}]
    assert parse_items({"items": items}) == items


@pytest.mark.parametrize("body, message", [
    ([], 'a judge_pairs request is a JSON object {"items": [...]}'),
    ({"items": "x"}, 'a judge_pairs request is a JSON object {"items": [...]}'),
    ({"items": [[1]]}, "items[0] needs a prompt (text)"),
    ({"items": [{"prompt": 5, "first": {}, "second": {}}]}, "items[0] needs a prompt (text)"),
    ({"items": [{"prompt": "a", "first": None, "second": {}}]},
     "items[0].first must be a video object with text content_hash and path"),
    ({"items": [{"prompt": "a", "first": {"content_hash": 5, "path": "/v"}, "second": {}}]},
     "items[0].first must be a video object with text content_hash and path"),
    ({"items": [{"prompt": "a", "first": {}, "second": {"content_hash": "h", "path": 7}}]},
     "items[0].second must be a video object with text content_hash and path"),
])
def test_malformed_pair_requests_are_refused_naming_the_field(body, message):
    assert _refused(parse_pair_items, body) == message


def test_a_pair_request_gives_its_items():
    items = [{"prompt": "a", "first": {"path": "/v1"}, "second": {"content_hash": "h", "file": "AQID"}}]
    assert parse_pair_items({"items": items}) == items


def test_scores_go_out_as_floats_with_null_for_no_score_and_come_back_with_nan():
    wire = encode_scores({"VQ": np.float64(3.5)}, ["VQ"], 1)  # a single score may be a scalar
    assert wire == {"VQ": [3.5]}
    wire = encode_scores({"VQ": [1, None, math.inf], "TA": torch.tensor([0.5, -2.0, math.nan])}, ["VQ", "TA"], 3)
    assert wire == {"VQ": [1.0, None, None], "TA": [0.5, -2.0, None]} and type(wire["VQ"][0]) is float
    back = decode_scores({"scores": {"VQ": [1.5, None, 2]}}, ["VQ"], 3)["VQ"]
    assert back.dtype == np.float64 and back[0] == 1.5 and math.isnan(back[1]) and back[2] == 2.0
    assert _refused(encode_scores, {"VQ": [1.0]}, ["VQ"], 2) == "1 'VQ' scores for 2 items"


@pytest.mark.parametrize("payload, message", [
    ([1.0], 'the answer has no "scores" object'),
    ({"scores": [1.0]}, 'the answer has no "scores" object'),
    ({"scores": {"TA": [1.0, 2.0]}}, "the answer's scores['VQ'] is not a list of 2 numbers"),
    ({"scores": {"VQ": [1.0, "high"]}}, "the answer's scores['VQ'] holds something other than numbers"),
    ({"scores": {"VQ": [1.0, {}]}}, "the answer's scores['VQ'] holds something other than numbers"),
])
def test_malformed_answers_are_refused_naming_the_field(payload, message):
    assert _refused(decode_scores, payload, ["VQ"], 2) == message


def test_sampling_comes_from_the_servers_info():
    assert sampling_from({"fps": 1.5, "num_frames": None, "max_pixels": 3136}) == Sampling(1.5, None, 3136)
    assert sampling_from({"fps": None, "num_frames": 8}) == Sampling(fps=None, num_frames=8, max_pixels=None)
    assert _refused(sampling_from, [2]) == "info.sampling must be an object {fps, num_frames, max_pixels}"
    assert _refused(sampling_from, {"fps": "fast"}) == (
        "info.sampling holds a value that is not a number: {'fps': 'fast'}")
    # json.loads reads Infinity; int() of it used to raise OverflowError, a traceback in the client
    assert _refused(sampling_from, json.loads('{"num_frames": Infinity}')) == (
        "info.sampling holds a value that is not a number: {'num_frames': inf}")
