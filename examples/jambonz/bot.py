"""A bot written for jambonz's ``listen`` verb (bidirectional streaming), run against the gateway.

Written from jambonz's documentation only (docs.jambonz.org, verbs/listen): it accepts the
``audio.jambonz.org`` subprotocol, reads the JSON metadata frame jambonz sends first, then gets
the caller's L16 audio as binary frames and streams audio back the same way. Nothing in it knows
the gateway: point a jambonz listen verb at it and it works the same.

What it does on each call (the test checks each step):
- echoes the caller's audio (so the caller hears itself: audio both ways);
- after 0.5 s sends a ``mark`` and reports the ``playout`` event it gets back;
- after 0.8 s queues 3 s of a 1 kHz prompt with a mark after it, then barges in with
  ``killAudio`` 0.2 s later: the prompt is dropped and its mark comes back ``cleared``;
- reports caller DTMF (``passDtmf``);
- after ``END_AFTER_S`` ends the call: ``{"type":"disconnect"}``, or closes its socket when the
  URL says ``?end=close``.

Run: ``python bot.py <port>``; an engine of gateway.yaml with ``protocol: jambonz`` and
``url: ws://127.0.0.1:<port>/``.
"""

import asyncio
import json
import math
import os
import struct
import sys
from urllib.parse import parse_qs, urlsplit

import websockets

END_AFTER_S = float(os.environ.get("BOT_END_AFTER_S", "1.6"))


def tone(rate: int, seconds: float, freq: float = 1000.0) -> bytes:
    n = int(rate * seconds)
    return b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / rate))) for i in range(n))


def say(*words: object) -> None:
    print(*words, flush=True)


async def call(ws) -> None:
    query = parse_qs(urlsplit(ws.request.path).query)
    meta = json.loads(await ws.recv())
    rate = int(meta["sampleRate"])
    say(f"start callSid={meta['callSid']} sampleRate={rate} mixType={meta['mixType']} from={meta['from']} to={meta['to']} agentId={meta.get('agentId')}")

    async def script() -> None:
        await asyncio.sleep(0.5)
        await ws.send(json.dumps({"type": "mark", "data": {"name": "echo-1"}}))
        await asyncio.sleep(0.3)
        prompt = tone(rate, 3.0)
        step = rate // 50 * 2 * 10  # 200 ms per message
        for i in range(0, len(prompt), step):
            await ws.send(prompt[i:i + step])
        await ws.send(json.dumps({"type": "mark", "data": {"name": "prompt"}}))
        await asyncio.sleep(0.2)
        say("barge-in")
        await ws.send(json.dumps({"type": "killAudio"}))
        await asyncio.sleep(max(0.0, END_AFTER_S - 1.0))
        if query.get("end") == ["close"]:
            say("end close")
            await ws.close(1000, "bot done")
        else:
            say("end disconnect")
            await ws.send(json.dumps({"type": "disconnect"}))

    task = asyncio.create_task(script())
    try:
        async for msg in ws:
            if isinstance(msg, bytes):
                await ws.send(msg)  # the echo
                continue
            ev = json.loads(msg)
            if ev.get("type") == "mark":
                say(f"mark {ev['data']['name']} {ev['data']['event']}")
            elif ev.get("event") == "dtmf":
                say(f"dtmf {ev['dtmf']} duration={ev['duration']}")
            else:
                say(f"text {msg}")
    except websockets.ConnectionClosed:
        pass
    finally:
        task.cancel()
        say("closed")


async def main(port: int) -> None:
    async with websockets.serve(call, "127.0.0.1", port, subprotocols=["audio.jambonz.org"]):
        say(f"listening {port}")
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
