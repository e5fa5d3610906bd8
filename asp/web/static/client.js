// Shadowless browser client. Wire format: asp/PROTOCOL.md. Plain JS, no build step.
'use strict';

(function () {
  const PROTOCOL_VERSION = 1;
  // Features (PROTOCOL.md, "Control channel").
  const F_INPUT = 1, F_CURSOR = 2, F_CLIP_TO_CLIENT = 4, F_CLIP_FROM_CLIENT = 8, F_CURSOR_RGBA = 16;
  // Input types.
  const KEY_DOWN = 1, KEY_UP = 2, MOUSE_MOVE = 3, BUTTON_DOWN = 4, BUTTON_UP = 5, WHEEL = 6;
  const BYE_NAMES = ['normal', 'display gone', 'version mismatch', 'internal error'];

  const screenEl = document.getElementById('screen');
  const video = document.getElementById('video');
  const ime = document.getElementById('ime');
  const statusEl = document.getElementById('status');

  // State visible to tests and to curious users (window.shadowless).
  const state = {
    connected: false, connects: 0, welcome: null, stats: null, bye: null, error: null,
    cursor: null, cursorShape: null, clipboard: null, sent: 0,
    framesDecoded() {
      const q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
      return q ? q.totalVideoFrames : 0;
    },
  };
  window.shadowless = state;

  let pc = null, channels = {}, screenW = 0, screenH = 0, backoff = 500, retryTimer = null;
  let disconnectTimer = null, generation = 0;

  function setStatus(text) { statusEl.textContent = text; }

  // ---- messages ----
  function msgKey(type, keysym) {
    const b = new DataView(new ArrayBuffer(5));
    b.setUint8(0, type); b.setUint32(1, keysym >>> 0, true);
    return b.buffer;
  }
  function msgMove(x, y) {
    const b = new DataView(new ArrayBuffer(5));
    b.setUint8(0, MOUSE_MOVE); b.setUint16(1, x, true); b.setUint16(3, y, true);
    return b.buffer;
  }
  function msgButton(type, button, x, y) {
    const b = new DataView(new ArrayBuffer(6));
    b.setUint8(0, type); b.setUint8(1, button); b.setUint16(2, x, true); b.setUint16(4, y, true);
    return b.buffer;
  }
  function msgWheel(dx, dy) {
    const b = new DataView(new ArrayBuffer(5));
    b.setUint8(0, WHEEL); b.setInt16(1, dx, true); b.setInt16(3, dy, true);
    return b.buffer;
  }
  function msgClipboard(text) {
    const t = new TextEncoder().encode(text);
    const b = new Uint8Array(1 + t.length);
    b[0] = 1; b.set(t, 1);
    return b.buffer;
  }
  function msgHello() {
    const agent = new TextEncoder().encode('shadowless-web/1');
    const b = new DataView(new ArrayBuffer(8 + agent.length));
    b.setUint8(0, 1); b.setUint16(1, PROTOCOL_VERSION, true);
    b.setUint32(3, F_INPUT | F_CURSOR | F_CLIP_TO_CLIENT | F_CLIP_FROM_CLIENT | F_CURSOR_RGBA, true);
    b.setUint8(7, agent.length);
    new Uint8Array(b.buffer).set(agent, 8);
    return b.buffer;
  }
  function send(label, buf) {
    const dc = channels[label];
    if (dc && dc.readyState === 'open') { dc.send(buf); state.sent++; return true; }
    return false;
  }

  // ---- control ----
  function onControl(data) {
    const v = new DataView(data), u = new Uint8Array(data);
    if (u.length < 1) return;
    switch (u[0]) {
      case 2: { // welcome
        if (u.length < 12) return;
        const codecLen = u[11];
        state.welcome = {
          version: v.getUint16(1, true), features: v.getUint32(3, true),
          width: v.getUint16(7, true), height: v.getUint16(9, true),
          codec: new TextDecoder().decode(u.subarray(12, 12 + codecLen)),
        };
        screenW = state.welcome.width; screenH = state.welcome.height;
        setStatus('connected · ' + state.welcome.codec + ' ' + screenW + '×' + screenH);
        break;
      }
      case 3: { // stats
        if (u.length !== 37 && u.length < 52) return; // revision 1.0 or 1.1 (PROTOCOL.md)
        state.stats = {
          frames: Number(v.getBigUint64(1, true)), bytes: Number(v.getBigUint64(9, true)),
          dropped: Number(v.getBigUint64(17, true)), encodeMicros: v.getUint32(25, true),
          bitrateKbps: v.getUint32(29, true), fps: v.getUint32(33, true) / 100,
        };
        if (u.length >= 52) {
          state.stats.estimateKbps = v.getUint32(37, true);
          state.stats.targetKbps = v.getUint32(41, true);
          state.stats.targetFps = v.getUint16(45, true);
          state.stats.videoWidth = v.getUint16(47, true);
          state.stats.videoHeight = v.getUint16(49, true);
          state.stats.mode = ['unknown', 'office', 'video', 'game'][u[51]] || 'unknown';
        }
        if (state.welcome) {
          let line = state.welcome.codec + ' ' + screenW + '×' + screenH + ' · ' +
            state.stats.fps.toFixed(1) + ' fps · ' + state.stats.bitrateKbps + ' kbit/s · encode ' +
            (state.stats.encodeMicros / 1000).toFixed(1) + ' ms';
          if (state.stats.mode) {
            line += ' · ' + state.stats.mode + ' · estimate ' + state.stats.estimateKbps + ' kbit/s';
          }
          setStatus(line);
        }
        break;
      }
      case 5: // resize
        if (u.length !== 5) return;
        screenW = v.getUint16(1, true); screenH = v.getUint16(3, true);
        break;
      case 6: { // bye
        if (u.length < 3) return;
        const code = v.getUint16(1, true);
        const reason = new TextDecoder().decode(u.subarray(3));
        state.bye = { code: code, reason: reason };
        setStatus('session ended (' + (BYE_NAMES[code] || code) + '): ' + reason);
        break;
      }
    }
  }

  // ---- cursor ----
  const cursorCache = new Map(); // serial -> CSS cursor value
  let cursorCSS = 'default';
  function onCursor(data) {
    const v = new DataView(data), u = new Uint8Array(data);
    if (u.length < 10) return;
    const visible = (u[1] & 1) !== 0, serial = v.getUint32(6, true);
    state.cursor = { x: v.getUint16(2, true), y: v.getUint16(4, true), visible: visible, serial: serial };
    if (u[0] === 2 && u.length >= 19) {
      const hx = v.getUint16(10, true), hy = v.getUint16(12, true);
      const w = v.getUint16(14, true), h = v.getUint16(16, true), format = u[18];
      const img = u.subarray(19);
      let url = null;
      if (format === 1) {
        let s = '';
        for (let i = 0; i < img.length; i += 0x8000) s += String.fromCharCode.apply(null, img.subarray(i, i + 0x8000));
        url = 'data:image/png;base64,' + btoa(s);
      } else if (format === 2 && img.length === w * h * 4) {
        const c = document.createElement('canvas');
        c.width = w; c.height = h;
        const ctx = c.getContext('2d');
        ctx.putImageData(new ImageData(new Uint8ClampedArray(img), w, h), 0, 0);
        url = c.toDataURL('image/png');
      }
      if (url) cursorCache.set(serial, 'url(' + url + ') ' + hx + ' ' + hy + ', default');
      state.cursorShape = { width: w, height: h, hotX: hx, hotY: hy, serial: serial, format: format };
    }
    cursorCSS = !visible ? 'none' : (cursorCache.get(serial) || cursorCSS);
    video.style.cursor = cursorCSS;
  }

  // ---- clipboard ----
  let lastClipboard = null;
  function onClipboard(data) {
    const u = new Uint8Array(data);
    if (u.length < 1 || u[0] !== 1) return;
    const text = new TextDecoder().decode(u.subarray(1));
    state.clipboard = text;
    lastClipboard = text;
    if (navigator.clipboard && navigator.clipboard.writeText && document.hasFocus()) {
      navigator.clipboard.writeText(text).catch(function () { /* not allowed: kept in state.clipboard */ });
    }
  }
  function sendClipboard(text) {
    if (typeof text !== 'string' || text === lastClipboard) return;
    if (new TextEncoder().encode(text).length > 60 * 1024) return;
    lastClipboard = text;
    send('clipboard', msgClipboard(text));
  }
  document.addEventListener('paste', function (e) {
    const text = e.clipboardData ? e.clipboardData.getData('text/plain') : '';
    if (text) sendClipboard(text);
    e.preventDefault();
    flushPendingPaste();
  });
  screenEl.addEventListener('focusin', function () {
    if (navigator.clipboard && navigator.clipboard.readText) {
      navigator.clipboard.readText().then(sendClipboard).catch(function () { /* permission denied */ });
    }
  });

  // ---- keyboard ----
  const NAMED = {
    Backspace: 0xff08, Tab: 0xff09, Enter: 0xff0d, Escape: 0xff1b, Delete: 0xffff,
    Home: 0xff50, ArrowLeft: 0xff51, ArrowUp: 0xff52, ArrowRight: 0xff53, ArrowDown: 0xff54,
    PageUp: 0xff55, PageDown: 0xff56, End: 0xff57, Insert: 0xff63, ContextMenu: 0xff67,
    NumLock: 0xff7f, CapsLock: 0xffe5, ScrollLock: 0xff14, Pause: 0xff13, PrintScreen: 0xff61,
    AltGraph: 0xfe03, Compose: 0xff20,
  };
  const BY_CODE = {
    ShiftLeft: 0xffe1, ShiftRight: 0xffe2, ControlLeft: 0xffe3, ControlRight: 0xffe4,
    AltLeft: 0xffe9, AltRight: 0xffea, MetaLeft: 0xffeb, MetaRight: 0xffec, OSLeft: 0xffeb, OSRight: 0xffec,
  };
  for (let i = 1; i <= 24; i++) NAMED['F' + i] = 0xffbe + i - 1;

  function charKeysym(ch) {
    const cp = ch.codePointAt(0);
    if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) return cp;
    return 0x01000000 + cp;
  }
  function keysymOf(e) {
    if (BY_CODE[e.code] && (e.key === 'Shift' || e.key === 'Control' || e.key === 'Alt' || e.key === 'Meta' || e.key === 'OS')) {
      return BY_CODE[e.code];
    }
    if (NAMED[e.key]) return NAMED[e.key];
    if (e.key === ' ') return 0x20;
    if ([...e.key].length === 1) return charKeysym(e.key);
    return 0;
  }
  const down = new Map(); // code -> keysym sent on keydown
  let pendingPaste = null;
  function flushPendingPaste() {
    if (!pendingPaste) return;
    clearTimeout(pendingPaste.timer);
    send('input', msgKey(KEY_DOWN, pendingPaste.keysym));
    pendingPaste = null;
  }
  function onKeyDown(e) {
    if (e.isComposing || e.key === 'Process' || e.key === 'Dead' || e.key === 'Unidentified') return; // IME: see input handler
    const ks = keysymOf(e);
    if (!ks) return;
    down.set(e.code || e.key, ks);
    const pasteShortcut = (e.ctrlKey || e.metaKey) && (e.key === 'v' || e.key === 'V');
    if (pasteShortcut) {
      // Let the browser fire "paste" so the client's clipboard reaches the desktop before
      // the key that pastes it.
      flushPendingPaste();
      pendingPaste = { keysym: ks, timer: setTimeout(flushPendingPaste, 150) };
      return;
    }
    e.preventDefault();
    send('input', msgKey(KEY_DOWN, ks));
  }
  function onKeyUp(e) {
    const id = e.code || e.key;
    let ks = down.get(id);
    if (ks === undefined) ks = keysymOf(e);
    down.delete(id);
    if (!ks) return;
    e.preventDefault();
    flushPendingPaste();
    send('input', msgKey(KEY_UP, ks));
  }
  function releaseAll() {
    for (const ks of down.values()) send('input', msgKey(KEY_UP, ks));
    down.clear();
  }
  screenEl.addEventListener('keydown', onKeyDown);
  screenEl.addEventListener('keyup', onKeyUp);
  screenEl.addEventListener('focusout', releaseAll);
  // Keys reach the hidden textarea (so input methods work) and bubble up to screenEl. Text
  // from input methods (composition) arrives as whole strings: type it character by character.
  function typeText(text) {
    for (const ch of text || '') {
      const ks = charKeysym(ch);
      send('input', msgKey(KEY_DOWN, ks));
      send('input', msgKey(KEY_UP, ks));
    }
    ime.value = '';
  }
  ime.addEventListener('compositionend', function (e) { typeText(e.data); });
  // Characters without a key of their own (dead keys, on-screen keyboards, "Unidentified"
  // keys) arrive only as inserted text.
  ime.addEventListener('input', function (e) {
    if (e.isComposing) return;
    if (e.inputType === 'insertText' || e.inputType === 'insertReplacementText') typeText(e.data);
    ime.value = '';
  });

  // ---- mouse ----
  function toScreen(e) {
    const r = video.getBoundingClientRect();
    const vw = screenW || video.videoWidth, vh = screenH || video.videoHeight;
    if (!vw || !vh || !r.width || !r.height) return null;
    const scale = Math.min(r.width / vw, r.height / vh);
    const ox = (r.width - vw * scale) / 2, oy = (r.height - vh * scale) / 2;
    const x = Math.round((e.clientX - r.left - ox) / scale), y = Math.round((e.clientY - r.top - oy) / scale);
    return { x: Math.max(0, Math.min(vw - 1, x)), y: Math.max(0, Math.min(vh - 1, y)) };
  }
  const BUTTONS = [1, 2, 3, 8, 9];
  video.addEventListener('mousemove', function (e) {
    const p = toScreen(e);
    if (p) send('input', msgMove(p.x, p.y));
  });
  video.addEventListener('mousedown', function (e) {
    ime.focus({ preventScroll: true });
    const p = toScreen(e);
    if (!p) return;
    e.preventDefault();
    send('input', msgMove(p.x, p.y));
    send('input', msgButton(BUTTON_DOWN, BUTTONS[e.button] || 1, p.x, p.y));
  });
  video.addEventListener('mouseup', function (e) {
    const p = toScreen(e);
    if (!p) return;
    e.preventDefault();
    send('input', msgButton(BUTTON_UP, BUTTONS[e.button] || 1, p.x, p.y));
  });
  video.addEventListener('contextmenu', function (e) { e.preventDefault(); });
  let wheelX = 0, wheelY = 0;
  video.addEventListener('wheel', function (e) {
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 33 : e.deltaMode === 2 ? 400 : 1; // lines, pages → pixels
    wheelX += e.deltaX * unit; wheelY += e.deltaY * unit;
    const dx = Math.trunc(wheelX / 50), dy = Math.trunc(wheelY / 50); // one step per 50 px
    if (dx || dy) {
      wheelX -= dx * 50; wheelY -= dy * 50;
      send('input', msgWheel(dx, dy));
    }
  }, { passive: false });

  // ---- connection ----
  function teardown() {
    clearTimeout(disconnectTimer);
    if (pc) { try { pc.close(); } catch (_) { /* closed */ } }
    pc = null; channels = {}; state.connected = false;
  }
  function scheduleReconnect(why) {
    if (retryTimer) return;
    teardown();
    state.error = why;
    setStatus('reconnecting in ' + (backoff / 1000).toFixed(1) + ' s: ' + why);
    retryTimer = setTimeout(function () { retryTimer = null; connect(); }, backoff);
    backoff = Math.min(backoff * 2, 10000);
  }
  function waitGathering(p) {
    if (p.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise(function (resolve) {
      const t = setTimeout(resolve, 3000);
      p.addEventListener('icegatheringstatechange', function () {
        if (p.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
      });
    });
  }
  async function connect() {
    const gen = ++generation;
    state.connects++;
    state.bye = null;
    setStatus('connecting…');
    const p = new RTCPeerConnection({ iceServers: [] });
    pc = p;
    channels = {
      input: p.createDataChannel('input', { ordered: true }),
      cursor: p.createDataChannel('cursor', { ordered: true }),
      clipboard: p.createDataChannel('clipboard', { ordered: true }),
      control: p.createDataChannel('control', { ordered: true }),
    };
    for (const label in channels) {
      const dc = channels[label];
      dc.binaryType = 'arraybuffer';
      dc.onmessage = function (ev) {
        if (!(ev.data instanceof ArrayBuffer)) return;
        if (label === 'control') onControl(ev.data);
        else if (label === 'cursor') onCursor(ev.data);
        else if (label === 'clipboard') onClipboard(ev.data);
      };
    }
    channels.control.onopen = function () { send('control', msgHello()); };
    channels.control.onclose = function () {
      if (gen === generation) scheduleReconnect(state.bye ? 'session ended: ' + state.bye.reason : 'control channel closed');
    };
    const tr = p.addTransceiver('video', { direction: 'recvonly' });
    if ('jitterBufferTarget' in tr.receiver) tr.receiver.jitterBufferTarget = 0;
    p.ontrack = function (ev) {
      video.srcObject = ev.streams && ev.streams[0] ? ev.streams[0] : new MediaStream([ev.track]);
      video.play().catch(function () { /* autoplay of muted video is allowed */ });
    };
    p.onconnectionstatechange = function () {
      if (gen !== generation) return;
      const st = p.connectionState;
      if (st === 'connected') {
        clearTimeout(disconnectTimer);
        state.connected = true; backoff = 500;
      } else if (st === 'failed') {
        scheduleReconnect('connection failed');
      } else if (st === 'disconnected') {
        clearTimeout(disconnectTimer);
        disconnectTimer = setTimeout(function () {
          if (gen === generation && p.connectionState !== 'connected') scheduleReconnect('connection lost');
        }, 2000);
      }
    };
    try {
      await p.setLocalDescription(await p.createOffer());
      await waitGathering(p);
      const res = await fetch('api/offer', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'offer', sdp: p.localDescription.sdp }),
      });
      const body = await res.json();
      if (!res.ok) throw new Error(body.error || ('HTTP ' + res.status));
      if (gen !== generation) return;
      await p.setRemoteDescription(body);
    } catch (err) {
      if (gen === generation) scheduleReconnect(String(err && err.message || err));
    }
  }

  screenEl.addEventListener('mousedown', function () { ime.focus({ preventScroll: true }); });
  connect();
  ime.focus({ preventScroll: true });
})();
