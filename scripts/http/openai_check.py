"""Drives `fluxchat serve --http` with the official `openai` package, as a user's program would.

Run through scripts/test-http (which makes the virtual environment). Two servers: the shipped
model (weights/fluxchat-tiny) with an API key, for completions about the example clips; and the
random-weight test bundle with one slot and no queue, whose long replies make a client leaving
mid-stream, a full queue and the drain on SIGTERM observable. Exit status 1 when a check fails.
"""
import base64
import json
import re
import signal
import subprocess
import sys
import threading
import time
import traceback

import httpx
import openai

BINARY = sys.argv[1] if len(sys.argv) > 1 else ".build/release/fluxchat"
KEY = "test-key-123"
CLIP = "weights/examples/01_purple_star_up.mp4"
GIF = "weights/examples/06_white_triangle_right.gif"
TEST_BUNDLE = "Tests/FluxChatTests/Fixtures/tiny_bundle"
TEST_CLIP = "Tests/FluxChatTests/Fixtures/clip.mp4"


class Server:
    """`fluxchat serve --http --port 0 ARGS`; the port comes from its 'listening on' line."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([BINARY, "serve", "--http", "--port", "0", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()
        m = self.wait_log(r"listening on http://127\.0\.0\.1:(\d+)", 120)
        if not m:
            raise RuntimeError("server did not start:\n" + self.log())
        self.base = f"http://127.0.0.1:{m.group(1)}"

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)

    def log(self):
        return "".join(self.lines)

    def wait_log(self, pattern, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            m = re.search(pattern, self.log())
            if m:
                return m
            time.sleep(0.05)
        return None

    def client(self, key=KEY):
        return openai.OpenAI(base_url=self.base + "/v1", api_key=key, max_retries=0, timeout=300)

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        return self.proc.wait(120)


def video_message(question, url):
    return [{"role": "user", "content": [{"type": "text", "text": question},
                                         {"type": "video_url", "video_url": {"url": url}}]}]


def expect_error(call, exc, status, code, param=None):
    """`call` must raise `exc` with `status`, the OpenAI error body, `code` (and `param`)."""
    try:
        call()
    except exc as e:
        assert e.status_code == status, (e.status_code, e.body)
        assert isinstance(e.body, dict) and e.body.get("code") == code, e.body
        assert e.body.get("message") and e.body.get("type"), e.body
        if param is not None:
            assert e.body.get("param") == param, e.body
        return e
    raise AssertionError(f"expected {exc.__name__} {status} {code}")


def shipped_model_checks(s):
    c = s.client()
    yield "models"
    models = c.models.list()
    assert [m.id for m in models.data] == ["fluxchat-tiny"], models
    caps = models.data[0].fluxchat
    assert caps["context"] == 2048 and "video" in caps["input"], caps

    yield "plan before any request (nothing decoded)"
    body = {"model": "fluxchat-tiny", "messages": video_message("How many objects move?", CLIP), "max_tokens": 20}
    auth = {"Authorization": f"Bearer {KEY}"}
    plan = httpx.post(s.base + "/v1/fluxchat/plan", json=body, headers=auth).json()
    with open("weights/fluxchat-tiny/config.json") as f:
        default_budget = json.load(f)["vision"]["default_budget"]  # the model's own, as the server takes it
    assert plan["video"]["cached"] is False and plan["video"]["budget"] == default_budget, plan
    assert plan["estimate"]["decode_ms"] is None and plan["rates"]["decode"]["source"] == "unknown", plan
    assert plan["estimate"]["prefill_ms"] > 0 and plan["rates"]["prefill"]["source"] == "startup", plan

    yield "completion about a video, usage"
    r = c.chat.completions.create(model="fluxchat-tiny", messages=video_message("How many objects move?", CLIP),
                                  max_tokens=20, seed=0)
    answer = r.choices[0].message.content
    assert r.object == "chat.completion" and answer.strip(), r
    assert r.choices[0].finish_reason in ("stop", "length"), r
    u = r.usage
    visual = u.prompt_tokens_details.visual_tokens
    assert u.prompt_tokens == plan["prompt_tokens"] and visual == plan["visual_tokens"], (u, plan)
    assert 0 < visual < u.prompt_tokens and u.total_tokens == u.prompt_tokens + u.completion_tokens, u
    assert 0 < u.completion_tokens <= 20 and u.prompt_tokens_details.cached_tokens == 0, u
    print(f"  answer: {answer!r}; usage: prompt {u.prompt_tokens} (visual {visual}), completion {u.completion_tokens}")

    yield "plan after a request (cached video, served rates)"
    plan = httpx.post(s.base + "/v1/fluxchat/plan", json=body, headers=auth).json()
    assert plan["video"]["cached"] is True and plan["estimate"]["encode_ms"] == 0, plan
    assert plan["rates"]["decode"]["source"].startswith("served"), plan
    assert plan["estimate"]["total_ms"] > 0, plan

    yield "streaming completion with include_usage"
    stream = c.chat.completions.create(model="fluxchat-tiny", messages=video_message("How many objects move?", CLIP),
                                       max_tokens=20, seed=0, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text.strip() == answer, (text, answer)
    assert chunks[0].choices[0].delta.role == "assistant", chunks[0]
    finish = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert finish == [r.choices[0].finish_reason], finish
    last = chunks[-1]
    assert last.choices == [] and last.usage.completion_tokens == u.completion_tokens, last
    # Encode once: the same video and prompt come from the caches.
    assert last.usage.prompt_tokens_details.cached_tokens >= visual, last.usage

    yield "multiple choice carries the letter"
    options = ["up", "down", "left", "right"]
    r = c.chat.completions.create(model="fluxchat-tiny", messages=video_message("Which direction does the star move?", CLIP),
                                  extra_body={"options": options})
    letter = r.fluxchat["choice"]
    assert letter in "ABCD" and r.choices[0].message.content == f"({letter}) {options['ABCD'.index(letter)]}", r

    yield "budget, frames and span as extra body fields"
    small = c.chat.completions.create(model="fluxchat-tiny", messages=video_message("Describe the video.", CLIP), max_tokens=4,
                                      extra_body={"budget": 32, "frames": 4, "start": 0.5, "end": 1.5})
    big = c.chat.completions.create(model="fluxchat-tiny", messages=video_message("Describe the video.", CLIP), max_tokens=4,
                                    extra_body={"budget": 256})
    assert small.fluxchat["stats"]["frames"] == 4 and big.fluxchat["stats"]["frames"] == 16, (small.fluxchat, big.fluxchat)
    # The shipped model's resampler writes a fixed table whatever the budget, so the budget shows in
    # the encoder's stats, not in the visual rows.
    assert small.fluxchat["stats"]["budget"] == 32 and big.fluxchat["stats"]["budget"] == 256, (small.fluxchat, big.fluxchat)

    yield "inline gif as a base64 image_url"
    with open(GIF, "rb") as f:
        data = base64.b64encode(f.read()).decode()
    r = c.chat.completions.create(model="fluxchat-tiny", max_tokens=8, messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/gif;base64," + data}},
        {"type": "text", "text": "Which direction does the triangle move?"}]}])
    assert r.choices[0].message.content.strip() and r.fluxchat["stats"]["visual_tokens"] > 0, r

    yield "400 errors with the stdio codes"
    url = "messages[0].content[1].video_url.url"
    e = expect_error(lambda: c.chat.completions.create(model="fluxchat-tiny", messages=video_message("Hi", CLIP),
                                                       extra_body={"budget": 99999}),
                     openai.BadRequestError, 400, "budget_out_of_range", "budget")
    expect_error(lambda: c.chat.completions.create(model="fluxchat-tiny", messages=video_message("Hi", "missing.mp4")),
                 openai.BadRequestError, 400, "video_not_found", url)
    expect_error(lambda: c.chat.completions.create(model="fluxchat-tiny", messages=video_message("Hi", "https://example.com/v.mp4")),
                 openai.BadRequestError, 400, "bad_request", url)
    expect_error(lambda: c.chat.completions.create(model="fluxchat-tiny", messages=[], max_tokens=2),
                 openai.BadRequestError, 400, "bad_request", "messages")
    expect_error(lambda: c.chat.completions.create(model="fluxchat-tiny", n=2, messages=[{"role": "user", "content": "hi"}]),
                 openai.BadRequestError, 400, "bad_request", "n")

    yield "paths outside the media root"
    for outside in ["../" * 12 + "etc/hostname", "/etc/hostname", "file:///etc/hostname"]:
        e = expect_error(lambda: c.chat.completions.create(model="fluxchat-tiny", messages=video_message("Hi", outside)),
                         openai.BadRequestError, 400, "bad_request", url)
        assert "outside the media roots" in e.body["message"], e.body

    yield "401 missing or wrong key"
    expect_error(lambda: s.client("wrong").models.list(), openai.AuthenticationError, 401, "invalid_api_key")
    r = httpx.get(s.base + "/v1/models")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key", r.text
    assert httpx.get(s.base + "/health").json()["status"] == "ok"

    yield "404 unknown model and route"
    expect_error(lambda: c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}]),
                 openai.NotFoundError, 404, "model_not_found", "model")
    r = httpx.get(s.base + "/v1/embeddings", headers=auth)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text

    yield "413 body and inline media too large"
    r = httpx.post(s.base + "/v1/chat/completions", headers=auth, content=b"x" * (33 << 20))
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large", r.text
    huge = "data:video/mp4;base64," + "A" * (22 << 20)
    expect_error(lambda: c.chat.completions.create(model="fluxchat-tiny", messages=video_message("Hi", huge)),
                 openai.APIStatusError, 413, "request_too_large", url)

    yield "one log line per request"
    assert s.wait_log(r"req-\d+ POST /v1/chat/completions 200 queue_ms=[\d.]+ total_ms=[\d.]+ prompt=\d+ visual=\d+ cached=\d+ completion=\d+"), s.log()
    assert s.wait_log(r"req-\d+ POST /v1/chat/completions 400 .*code=budget_out_of_range"), s.log()


def load_path_checks(s):
    c = s.client()
    long = dict(model="tiny_bundle", messages=video_message("Describe the video.", TEST_CLIP), stream=True)

    yield "a client leaving mid-stream stops generation"
    stream = c.chat.completions.create(max_tokens=4000, **long)
    got = 0
    for ch in stream:
        got += 1
        if got == 5:
            break
    stream.close()
    m = s.wait_log(r"200 [^\n]*completion=(\d+) [^\n]*finish=cancelled")
    assert m, s.log()
    print(f"  the server's line: {m.group(0)!r}")
    assert 0 < int(m.group(1)) < 4000, m.group(0)

    yield "429 when the one slot is busy and the queue holds none"
    stream = c.chat.completions.create(max_tokens=4000, **long)
    next(iter(stream))
    expect_error(lambda: c.chat.completions.create(model="tiny_bundle", messages=[{"role": "user", "content": "hi"}]),
                 openai.RateLimitError, 429, "queue_full")
    stream.close()
    assert s.wait_log(r"finish=cancelled[\s\S]*finish=cancelled"), s.log()

    yield "SIGTERM: 503 for new requests, the stream in flight finishes, exit 0"
    stream = c.chat.completions.create(max_tokens=6000, **long)
    it = iter(stream)
    next(it)
    s.proc.send_signal(signal.SIGTERM)
    assert s.wait_log("finishing 1 requests in flight"), s.log()
    expect_error(lambda: c.chat.completions.create(model="tiny_bundle", messages=[{"role": "user", "content": "hi"}]),
                 openai.InternalServerError, 503, "shutting_down")
    rest = list(it)
    assert rest[-1].choices[0].finish_reason in ("length", "stop"), rest[-1]
    assert s.proc.wait(120) == 0, s.log()


def main():
    passed, failed = 0, []
    for name, args, checks in [
        ("shipped model", ["--api-key", KEY], shipped_model_checks),
        ("test bundle, one slot", ["--model", TEST_BUNDLE, "--budget", "64", "--parallel", "1", "--queue", "0"], load_path_checks),
    ]:
        server = Server(*args)
        current = None
        try:
            for current in checks(server):
                print(f"check: {name}: {current}", flush=True)
                passed += 1
        except Exception:
            passed -= 1
            failed.append(f"{name}: {current}")
            traceback.print_exc()
            print(server.log()[-3000:], file=sys.stderr)
        finally:
            if server.proc.poll() is None:
                server.stop(signal.SIGKILL)
    print(f"openai_check: {passed} checks passed, {len(failed)} failed" + (f": {failed}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
