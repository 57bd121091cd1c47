"""An app written for Asterisk's ``chan_websocket`` (``Dial(WebSocket/...)``, ARI externalMedia),
run against the gateway.

Written from Asterisk's documentation only (docs.asterisk.org, Channel-Drivers/WebSocket): it
takes the channel's outgoing connection, reads ``MEDIA_START`` (JSON or the plain-text format),
gets the caller's media as binary frames in the channel's format and sends media back.

What it does on each call (the test checks each step):
- echoes the caller's media (audio both ways);
- after 0.5 s ``MARK_MEDIA`` and reports ``MEDIA_MARK_PROCESSED``;
- after 0.7 s sends 1000 bytes of media in three odd-sized pieces between
  ``START_MEDIA_BUFFERING`` and ``STOP_MEDIA_BUFFERING`` and reports
  ``MEDIA_BUFFERING_COMPLETED``; asks ``GET_STATUS``;
- after 1.0 s queues 5 s of media, then ``FLUSH_MEDIA`` and ``REPORT_QUEUE_DRAINED``, and
  reports ``QUEUE_DRAINED``;
- reports ``DTMF_END``, ``MEDIA_XOFF`` / ``MEDIA_XON``;
- after ``END_AFTER_S`` sends ``HANGUP``.

Run: ``python app.py <port>``; an engine of gateway.yaml with ``protocol: asterisk``.
"""

import asyncio
import json
import os
import sys

import websockets

END_AFTER_S = float(os.environ.get("BOT_END_AFTER_S", "1.6"))


def say(*words: object) -> None:
    print(*words, flush=True)


class Control:
    """Commands and events in the call's control format (fixed by MEDIA_START's own format)."""

    def __init__(self, ws, first: str) -> None:
        self.ws = ws
        self.json = first.lstrip().startswith("{")
        self.start = self.parse(first)

    def parse(self, text: str) -> dict:
        if self.json:
            return json.loads(text)
        name, *words = text.split()
        ev = {"event": name}
        for w in words:
            key, sep, value = w.partition(":")
            if sep:
                ev[key] = value
            else:
                ev["correlation_id"] = w
        return ev

    async def send(self, command: str, **params: str) -> None:
        if self.json:
            await self.ws.send(json.dumps({"command": command, **params}))
        else:
            await self.ws.send(" ".join([command, *params.values()]))


async def call(ws) -> None:
    ctl = Control(ws, await ws.recv())
    st = ctl.start
    frame = int(st["optimal_frame_size"])
    agent = st.get("channel_variables", {}).get("agentId")
    say(f"start channel_id={st['channel_id']} format={st['format']} optimal_frame_size={frame} agentId={agent}")
    silence = (b"\xff" if st["format"] == "ulaw" else b"\x00") * frame

    async def script() -> None:
        await asyncio.sleep(0.5)
        await ctl.send("MARK_MEDIA", correlation_id="echo-1")
        await asyncio.sleep(0.2)
        await ctl.send("START_MEDIA_BUFFERING")
        for n in (333, 333, 334):
            await ws.send(silence[:1] * n)
        await ctl.send("STOP_MEDIA_BUFFERING", correlation_id="bulk-1")
        await ctl.send("GET_STATUS")
        await asyncio.sleep(0.3)
        for _ in range(5):  # 5 s, in messages under Asterisk's 65500-byte limit
            await ws.send(silence * 50)
        await asyncio.sleep(0.1)
        say("barge-in")
        await ctl.send("FLUSH_MEDIA")
        await ctl.send("REPORT_QUEUE_DRAINED")
        await asyncio.sleep(max(0.0, END_AFTER_S - 1.1))
        say("end hangup")
        await ctl.send("HANGUP")

    task = asyncio.create_task(script())
    try:
        async for msg in ws:
            if isinstance(msg, bytes):
                await ws.send(msg)  # the echo, one frame per frame
                continue
            ev = ctl.parse(msg)
            name = ev.get("event")
            if name in ("MEDIA_MARK_PROCESSED", "MEDIA_BUFFERING_COMPLETED"):
                say(f"{name} {ev.get('correlation_id')}")
            elif name == "STATUS":
                say(f"STATUS queue_length={ev['queue_length']} bulk_media={ev['bulk_media']}")
            elif name == "DTMF_END":
                say(f"DTMF_END {ev['digit']}")
            else:
                say(name)
    except websockets.ConnectionClosed:
        pass
    finally:
        task.cancel()
        say("closed")


async def main(port: int) -> None:
    async with websockets.serve(call, "127.0.0.1", port):
        say(f"listening {port}")
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
