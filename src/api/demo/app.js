// The demo page: SIP.js registers this browser as a virtual agent over SIP-over-WebSocket
// (RFC 7118, /sip on the gateway's HTTP port) and takes that agent's calls. Served as plain ES
// modules (SIP.js ships them), so there is no build step. window.vagwDemo exposes the state for
// the headless-Chromium tests.
import { Registerer, RegistererState, SessionState, UserAgent } from '/demo/sip.js/index.js';

const $ = (id) => document.getElementById(id);
const state = { reg: 'unregistered', call: 'idle', lastEnd: '', peakHz: 0, level: 0, dtmfSent: '', held: false };
let ua;
let registerer;
let session;
let pending;
let audioCtx;
let analyser;

function log(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('log').prepend(li);
}

function setReg(s, error = '') {
  state.reg = s;
  $('regState').textContent = s;
  $('regState').dataset.state = s;
  $('regError').textContent = error;
  $('registerBtn').disabled = s === 'registered' || s === 'registering';
  $('unregisterBtn').disabled = s !== 'registered';
  $('callMe').disabled = s !== 'registered';
}

function setCall(s) {
  state.call = s;
  $('callState').textContent = s;
  $('callState').dataset.state = s;
  $('incall').hidden = s !== 'established';
  $('incoming').hidden = s !== 'ringing';
}

async function register(ev) {
  ev.preventDefault();
  const number = $('number').value.trim();
  const host = location.hostname;
  setReg('registering');
  try {
    // A platform's softphone token goes in the REGISTER (RFC 8898 Bearer); else digest with the password.
    const token = $('token').value.trim();
    ua = new UserAgent({
      uri: UserAgent.makeURI(`sip:${number}@${host}`),
      transportOptions: { server: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/sip` },
      authorizationUsername: number,
      authorizationPassword: token ? '' : $('password').value,
      logLevel: 'warn',
      sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] }, iceGatheringTimeout: 1000 },
      delegate: { onInvite: (inv) => incoming(inv) },
    });
    await ua.start();
    registerer = new Registerer(ua, { expires: 300, ...(token ? { extraHeaders: [`Authorization: Bearer ${token}`] } : {}) });
    registerer.stateChange.addListener((s) => {
      if (s === RegistererState.Registered) setReg('registered');
      if (s === RegistererState.Unregistered && state.reg !== 'failed') setReg('unregistered');
    });
    await registerer.register({
      requestDelegate: {
        onReject: (res) => {
          const m = res.message;
          setReg('failed', `${m.statusCode} ${m.reasonPhrase}`);
          log(`registration refused: ${m.statusCode} ${m.reasonPhrase}`);
        },
      },
    });
    log(`REGISTER sent for ${number}`);
  } catch (e) {
    setReg('failed', String(e.message ?? e));
  }
}

async function unregister() {
  await registerer?.unregister();
  await ua?.stop();
  setReg('unregistered');
}

function incoming(invitation) {
  pending = invitation;
  const from = invitation.remoteIdentity.uri.user ?? invitation.remoteIdentity.uri.toString();
  $('from').textContent = `${invitation.remoteIdentity.displayName ?? ''} ${from}`.trim();
  log(`INVITE from ${from}`);
  setCall('ringing');
  invitation.stateChange.addListener((s) => onSessionState(invitation, s));
  if ($('autoAnswer').checked) answer();
}

function answer() {
  if (!pending) return;
  const inv = pending;
  pending = undefined;
  inv.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } }).catch((e) => log(`accept failed: ${e.message}`));
}

function reject() {
  pending?.reject();
  pending = undefined;
}

function onSessionState(s, st) {
  if (st === SessionState.Established) {
    session = s;
    setCall('established');
    log('call established');
    attachAudio(s);
  }
  if (st === SessionState.Terminated) {
    session = undefined;
    state.held = false;
    $('hold').textContent = 'Hold';
    state.lastEnd = new Date().toISOString();
    setCall('terminated');
    log('call ended');
    setTimeout(() => state.call === 'terminated' && setCall('idle'), 3000);
  }
}

/** Play the caller's audio and measure it (level and dominant frequency) with an AnalyserNode. */
function attachAudio(s) {
  const pc = s.sessionDescriptionHandler.peerConnection;
  const stream = new MediaStream();
  for (const r of pc.getReceivers()) if (r.track) stream.addTrack(r.track);
  $('remote').srcObject = stream;
  audioCtx ??= new AudioContext();
  void audioCtx.resume();
  const src = audioCtx.createMediaStreamSource(stream);
  analyser = audioCtx.createAnalyser();
  analyser.fftSize = 4096;
  src.connect(analyser);
}

function measure() {
  if (analyser && state.call === 'established') {
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let best = 0;
    for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
    const time = new Float32Array(analyser.fftSize);
    analyser.getFloatTimeDomainData(time);
    let sum = 0;
    for (const x of time) sum += x * x;
    state.level = Math.sqrt(sum / time.length);
    state.peakHz = Math.round((best * audioCtx.sampleRate) / analyser.fftSize);
    $('level').value = Math.min(1, state.level * 4);
    $('peak').textContent = state.level > 0.005 ? `${state.peakHz} Hz` : 'silence';
  }
}

function sendDtmf(digit) {
  if (!session) return;
  // RFC 4733 through the browser's RTCDTMFSender; SIP INFO when the far end took no telephone-event.
  const sent = session.sessionDescriptionHandler.sendDtmf(digit, { duration: 160, interToneGap: 70 });
  if (!sent) {
    void session.info({ requestOptions: { body: { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: `Signal=${digit}\r\nDuration=160` } } });
  }
  state.dtmfSent += digit;
  log(`DTMF ${digit} (${sent ? 'RFC 4733' : 'SIP INFO'})`);
}

/** Hold/resume with a re-INVITE (a=sendonly / a=sendrecv): the caller hears silence meanwhile. */
async function toggleHold() {
  if (!session) return;
  const hold = !state.held;
  session.sessionDescriptionHandlerOptionsReInvite = { hold };
  await session.invite({
    requestDelegate: {
      onAccept: () => {
        state.held = hold;
        $('hold').textContent = hold ? 'Resume' : 'Hold';
        log(hold ? 'call on hold' : 'call resumed');
      },
      onReject: (res) => log(`hold refused: ${res.message.statusCode} ${res.message.reasonPhrase}`),
    },
  });
}

async function fetchToken() {
  const res = await fetch('/demo/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ number: $('number').value.trim() }) });
  const body = await res.json().catch(() => ({}));
  if (res.ok) $('token').value = body.token;
  log(res.ok ? 'softphone token from the sandbox platform' : `no token: ${body.error ?? res.status}`);
}

async function callMe() {
  const res = await fetch('/demo/call', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ number: $('number').value.trim() }) });
  const body = await res.json().catch(() => ({}));
  log(res.ok ? `sandbox is calling (${body.transactionId ?? body.conversationId ?? body.callid ?? '?'})` : `sandbox call refused: ${body.error ?? body.message ?? res.status}`);
}

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  row.append(td);
}

async function refresh() {
  try {
    const [calls, agents] = await Promise.all([fetch('/calls').then((r) => r.json()), fetch('/agents').then((r) => r.json())]);
    const cb = $('calls').tBodies[0];
    cb.replaceChildren();
    for (const c of calls.calls) {
      const tr = cb.insertRow();
      cell(tr, c.callId.slice(0, 18));
      cell(tr, c.agentId);
      cell(tr, c.caller);
      cell(tr, c.status, `status-${c.status.toLowerCase()}`);
      cell(tr, c.actionsPossible.join(', '));
    }
    const ab = $('agents').tBodies[0];
    ab.replaceChildren();
    for (const a of agents.agents) {
      const tr = ab.insertRow();
      cell(tr, a.id);
      cell(tr, a.number);
      cell(tr, a.state, `state-${a.state}`);
      cell(tr, `${a.engine}${a.registered ? ' (registered)' : ''}`);
      cell(tr, a.vendorPhase ?? '-');
    }
  } catch {
    /* the gateway restarting: try again next second */
  }
}

for (const d of '123456789*0#') {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = d;
  b.dataset.digit = d;
  b.addEventListener('click', () => sendDtmf(d));
  $('keypad').append(b);
}
$('register').addEventListener('submit', register);
$('unregisterBtn').addEventListener('click', () => void unregister());
$('answer').addEventListener('click', answer);
$('reject').addEventListener('click', reject);
$('hangup').addEventListener('click', () => void session?.bye());
$('hold').addEventListener('click', () => void toggleHold());
$('callMe').addEventListener('click', () => void callMe());
$('tokenBtn').addEventListener('click', () => void fetchToken());
for (const el of document.querySelectorAll('.num')) $('number').addEventListener('input', () => (el.textContent = $('number').value));
setInterval(refresh, 1000);
void refresh();
// A timer, not requestAnimationFrame: a background or headless tab must keep measuring.
setInterval(measure, 50);

window.vagwDemo = {
  state,
  answer,
  hangup: () => session?.bye(),
  toggleHold,
  sendDtmf,
};
