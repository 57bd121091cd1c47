"""A small Pipecat bot for the gateway, written the way a Pipecat user writes one for Twilio.

It uses Pipecat's own pieces unchanged: ``parse_telephony_websocket`` to read the Twilio
``connected``/``start`` handshake, ``TwilioFrameSerializer`` and ``FastAPIWebsocketTransport``.
The "conversation" is an echo of the caller's audio (no AI service needed to run it), and the
bot ends the call after ``END_AFTER_S`` seconds in one of three ways, chosen by the ``mode``
query parameter of the engine URL:

- ``close``: ending the task (``EndTaskFrame``) with ``auto_hang_up=False``: Pipecat closes its
  socket normally (1000).
- ``rest``: the same with ``auto_hang_up=True``: Pipecat hangs up through Twilio's REST API,
  whose base URL is the gateway (``VAGW_REST_BASE``) and whose token is ``VAGW_REST_TOKEN``.
- ``event``: the gateway's ``hangup`` event with a term code, sent as a transport message.
- ``interrupt``: as ``close``, with a barge-in first (an ``InterruptionFrame``, which the
  serializer turns into Twilio's ``clear``: the gateway drops the audio the bot had queued).

Run: ``python bot.py <port>``; point an engine of gateway.yaml at ``ws://127.0.0.1:<port>/ws?mode=...``.
"""

import asyncio
import os
import sys

import uvicorn
from fastapi import FastAPI, WebSocket
from pipecat.frames.frames import (
    EndTaskFrame,
    InterruptionFrame,
    Frame,
    InputAudioRawFrame,
    InputDTMFFrame,
    OutputAudioRawFrame,
    OutputTransportMessageUrgentFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.runner import PipelineRunner
from pipecat.pipeline.task import PipelineParams, PipelineTask
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.runner.utils import parse_telephony_websocket
from pipecat.serializers.twilio import TwilioFrameSerializer
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport

END_AFTER_S = float(os.environ.get("BOT_END_AFTER_S", "1.5"))
# The term code of the ``event`` mode (a term code the contact center lists).
TERM_CODE = os.environ.get("BOT_TERM_CODE", "AI Failure")
app = FastAPI()


class Echo(FrameProcessor):
    """Plays the caller's audio back, reports DTMF, and ends the call after END_AFTER_S."""

    def __init__(self, mode: str, stream_sid: str):
        super().__init__()
        self._mode = mode
        self._stream_sid = stream_sid
        self._ending: asyncio.Task | None = None
        self._ended = False

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            if self._ended:
                # Said goodbye: nothing more to play while the pipeline drains and ends.
                return
            if self._ending is None:
                self._ending = asyncio.create_task(self._end_later())
            await self.push_frame(
                OutputAudioRawFrame(audio=frame.audio, sample_rate=frame.sample_rate, num_channels=frame.num_channels)
            )
        elif isinstance(frame, InputDTMFFrame):
            print(f"dtmf {frame.button.value}", flush=True)
        else:
            await self.push_frame(frame, direction)

    async def _end_later(self):
        if self._mode == "interrupt":
            await asyncio.sleep(END_AFTER_S / 3)
            print("interrupting", flush=True)
            await self.push_frame(InterruptionFrame())
            await asyncio.sleep(END_AFTER_S * 2 / 3)
        else:
            await asyncio.sleep(END_AFTER_S)
        print(f"ending mode={self._mode}", flush=True)
        self._ended = True
        if self._mode == "event":
            await self.push_frame(
                OutputTransportMessageUrgentFrame(
                    message={"event": "hangup", "streamSid": self._stream_sid, "hangup": {"termCode": TERM_CODE}}
                )
            )
            return
        # Pipecat's way to end the task from a processor: the task then sends EndFrame through the
        # whole pipeline (the serializer hangs up by REST on it when auto_hang_up is on).
        await self.push_frame(EndTaskFrame(), FrameDirection.UPSTREAM)


@app.websocket("/ws")
async def ws(websocket: WebSocket):
    await websocket.accept()
    mode = websocket.query_params.get("mode", "close")
    _, call = await parse_telephony_websocket(websocket)
    print(f"start call_id={call.call_id} from={call.from_number} to={call.to_number}", flush=True)
    serializer = TwilioFrameSerializer(
        stream_sid=call.stream_id,
        call_sid=call.call_id,
        account_sid=call.body.get("account_sid") or os.environ.get("VAGW_ACCOUNT_SID"),
        auth_token=os.environ.get("VAGW_REST_TOKEN"),
        base_url=os.environ.get("VAGW_REST_BASE"),
        params=TwilioFrameSerializer.InputParams(auto_hang_up=(mode == "rest")),
    )
    transport = FastAPIWebsocketTransport(
        websocket=websocket,
        params=FastAPIWebsocketParams(audio_in_enabled=True, audio_out_enabled=True, serializer=serializer),
    )
    pipeline = Pipeline([transport.input(), Echo(mode, call.stream_id), transport.output()])
    task = PipelineTask(pipeline, params=PipelineParams(audio_in_sample_rate=8000, audio_out_sample_rate=8000))
    await PipelineRunner(handle_sigint=False).run(task)
    print(f"pipeline finished mode={mode}", flush=True)


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
