// The web editor's page logic: canvas drawing, uploads, choices, live updates.
// The server API is described in facedisentangle/web/server.py. Only image bytes and JSON
// choices are sent; every answer is a PNG or {"error": message}, shown in #message.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const canvas = $('canvas'), overlay = $('overlay'), ctx = canvas.getContext('2d');
  const state = { info: null, sid: null, refs: [], tool: 'pen', undo: [], drawing: false,
                  inFlight: false, pending: false, updates: 0, errors: 0, last: null };
  const MAX_UNDO = 30;

  function message(text) {
    $('message').textContent = text || '';
    if (text) { state.errors += 1; document.body.dataset.errors = String(state.errors); }
  }

  async function failure(resp) {
    let text = `${resp.status} ${resp.statusText}`;
    try { const body = await resp.json(); if (body.error) text = body.error; } catch (e) { /* not JSON */ }
    return text;
  }

  function api(path, options) { return fetch(`/api/${state.sid}/${path}`, options); }

  // ------------------------------------------------------------------ canvas
  function drawOverlay() {
    const o = overlay.getContext('2d');
    o.clearRect(0, 0, overlay.width, overlay.height);
    if (!$('show-boxes').checked) return;
    const colours = { eye1: '#e33', eye2: '#e90', nose: '#3a3', mouth: '#36e' };
    for (const [name, [x, y, s]] of Object.entries(state.info.boxes)) {
      if (name === state.info.base_component) continue;
      o.strokeStyle = colours[name] || '#a3a';
      o.lineWidth = Math.max(1, state.info.resolution / 256);
      o.strokeRect(x + 0.5, y + 0.5, s - 1, s - 1);
      o.fillStyle = o.strokeStyle;
      o.font = `${Math.max(8, state.info.resolution / 32)}px sans-serif`;
      o.fillText(name, x + 2, y + Math.max(8, state.info.resolution / 32));
    }
  }

  function point(e) {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width,
            (e.clientY - r.top) * canvas.height / r.height];
  }

  function pushUndo() {
    state.undo.push(ctx.getImageData(0, 0, canvas.width, canvas.height));
    if (state.undo.length > MAX_UNDO) state.undo.shift();
  }

  canvas.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    pushUndo();
    state.drawing = true;
    const [x, y] = point(e);
    ctx.strokeStyle = state.tool === 'pen' ? '#000' : '#fff';
    ctx.lineWidth = Number($('size').value) * (state.tool === 'pen' ? 1 : 3) * state.info.resolution / 256;
    ctx.lineCap = ctx.lineJoin = 'round';
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 0.01, y); ctx.stroke();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!state.drawing) return;
    const [x, y] = point(e);
    ctx.lineTo(x, y); ctx.stroke();
  });
  function endStroke() {
    if (!state.drawing) return;
    state.drawing = false;
    requestUpdate();
  }
  canvas.addEventListener('pointerup', endStroke);
  canvas.addEventListener('pointercancel', endStroke);

  function setTool(tool) {
    state.tool = tool;
    $('pen').classList.toggle('active', tool === 'pen');
    $('eraser').classList.toggle('active', tool === 'eraser');
  }
  $('pen').onclick = () => setTool('pen');
  $('eraser').onclick = () => setTool('eraser');
  $('undo').onclick = () => {
    if (!state.undo.length) return;
    ctx.putImageData(state.undo.pop(), 0, 0);
    requestUpdate();
  };
  document.addEventListener('keydown', (e) => {  // Ctrl+Z / Cmd+Z: undo
    if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === 'z') {
      e.preventDefault();
      $('undo').click();
    }
  });
  $('clear').onclick = () => {
    pushUndo();
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, canvas.width, canvas.height);
    requestUpdate();
  };
  $('show-boxes').onchange = drawOverlay;
  $('download-sketch').onclick = () => { $('download-sketch').href = canvas.toDataURL('image/png'); };

  async function loadSketch(resp) {  // a PNG answer becomes the canvas and its new start
    if (!resp.ok) { message(await failure(resp)); return false; }
    const bitmap = await createImageBitmap(await resp.blob());
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    state.undo = [];
    message('');
    requestUpdate();
    return true;
  }

  $('blank').onclick = async () => loadSketch(await api('canvas/blank', { method: 'POST' }));
  $('sketch-file').onchange = async () => {
    const file = $('sketch-file').files[0];
    $('sketch-file').value = '';
    if (!file) return;
    const form = new FormData(); form.append('file', file, file.name);
    loadSketch(await api('canvas/upload', { method: 'POST', body: form }));
  };

  // ------------------------------------------------------------------ references
  function fillSelect(select, first) {  // first: [value, label] of an entry before the photos
    const old = select.value;
    select.innerHTML = '';
    if (first) select.add(new Option(first[1], first[0]));
    state.refs.forEach((r, i) => select.add(new Option(`photo ${i + 1}`, String(i))));
    if ([...select.options].some((o) => o.value === old)) select.value = old;
  }

  function renderRefs() {
    const box = $('refs'); box.innerHTML = '';
    state.refs.forEach((r, i) => {
      const div = document.createElement('div'); div.className = 'ref';
      const img = document.createElement('img'); img.src = r.url; img.alt = `photo ${i + 1}`;
      const use = document.createElement('button'); use.textContent = 'sketch'; use.className = 'use-sketch';
      use.title = "start the canvas from this photo's sketch";
      use.onclick = async () => loadSketch(await api(
        `canvas/reference/${i}?method=${$('sketch-method').value}`, { method: 'POST' }));
      const del = document.createElement('button'); del.textContent = 'x'; del.className = 'remove-ref';
      del.title = 'remove this photo';
      del.onclick = async () => {
        const resp = await api(`reference/${i}`, { method: 'DELETE' });
        if (!resp.ok) { message(await failure(resp)); return; }
        state.refs.splice(i, 1);
        await refreshRefUrls(); renderRefs(); requestUpdate();
      };
      div.append(img, `photo ${i + 1}`, document.createElement('br'), use, del);
      box.append(div);
    });
    for (const c of state.info.components) {
      fillSelect($(`app-${c}`), null);
      fillSelect($(`geo-${c}`), ['sketch', 'sketch']);
      if (!state.info.photo_geometry) $(`geo-${c}`).disabled = true;
    }
    fillSelect($('blend-to'), ['', '(none)']);
  }

  async function refreshRefUrls() {
    for (const [i, r] of state.refs.entries()) {
      const resp = await api(`reference/${i}.png`);
      if (resp.ok) { URL.revokeObjectURL(r.url); r.url = URL.createObjectURL(await resp.blob()); }
    }
  }

  $('ref-file').onchange = async () => {
    const file = $('ref-file').files[0];
    $('ref-file').value = '';
    if (!file) return;
    const form = new FormData(); form.append('file', file, file.name);
    const resp = await api('reference', { method: 'POST', body: form });
    if (!resp.ok) { message(await failure(resp)); return; }
    const body = await resp.json();
    const img = await api(`reference/${body.index}.png`);
    state.refs.push({ url: URL.createObjectURL(await img.blob()) });
    message('');
    renderRefs();
    if (state.refs.length === 1 && !state.undo.length) {
      // the first photo: its sketch becomes the canvas (when the model can draw it)
      const resp2 = await api(`canvas/reference/0?method=${$('sketch-method').value}`,
                              { method: 'POST' });
      if (resp2.ok) { await loadSketch(resp2); return; }
    }
    requestUpdate();
  };

  // ------------------------------------------------------------------ choices and updates
  function choices() {
    const out = { appearance: {}, geometry: {}, t: Number($('blend-t').value) / 100,
                  exact_bg: $('exact-bg').checked };
    for (const c of state.info.components) {
      const a = $(`app-${c}`).value; if (a !== '') out.appearance[c] = Number(a);
      const g = $(`geo-${c}`).value; out.geometry[c] = g === 'sketch' || g === '' ? 'sketch' : Number(g);
    }
    const b = $('blend-to').value;
    out.blend_to = b === '' ? null : Number(b);
    if (state.info.projection) {  // the refine sliders: only the parts moved above 0
      const p = {};
      for (const c of state.info.projection.components) {
        const v = Number($(`refine-${c}`).value) / 100;
        if (v > 0) p[c] = v;
      }
      out.projection = p;
    }
    return out;
  }

  function requestUpdate() {
    if (!state.refs.length) { $('status').textContent = 'upload a reference photo'; return; }
    if (state.inFlight) { state.pending = true; return; }
    state.inFlight = true;
    document.body.dataset.busy = '1';
    canvas.toBlob(async (blob) => {
      const form = new FormData();
      form.append('sketch', blob, 'canvas.png');
      form.append('choices', JSON.stringify(choices()));
      const t0 = performance.now();
      try {
        const resp = await api('edit', { method: 'POST', body: form });
        if (!resp.ok) { message(await failure(resp)); return; }
        const url = URL.createObjectURL(await resp.blob());
        if (state.last) URL.revokeObjectURL(state.last);
        state.last = url;
        $('result').src = url;
        $('download-result').href = url;
        $('status').textContent = `updated in ${((performance.now() - t0) / 1000).toFixed(2)} s`;
        state.updates += 1;
      } catch (e) {
        message(`the server did not answer (${e})`);
      } finally {
        state.inFlight = false;
        if (state.pending) { state.pending = false; requestUpdate(); } else {
          document.body.dataset.busy = '0';
          document.body.dataset.updates = String(state.updates);
        }
      }
    }, 'image/png');
  }

  $('blend-t').oninput = () => { $('blend-t-value').textContent = (Number($('blend-t').value) / 100).toFixed(2); };
  $('blend-t').onchange = requestUpdate;
  $('blend-to').onchange = requestUpdate;
  $('exact-bg').onchange = requestUpdate;

  // ------------------------------------------------------------------ start
  async function start() {
    const resp = await fetch('/api/session', { method: 'POST' });
    if (!resp.ok) { message(await failure(resp)); return; }
    state.info = await resp.json();
    state.sid = state.info.session;
    const r = state.info.resolution;
    canvas.width = canvas.height = overlay.width = overlay.height = r;
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, r, r);
    const table = $('components');
    for (const c of state.info.components) {
      const tr = document.createElement('tr');
      const app = document.createElement('select'); app.id = `app-${c}`; app.onchange = requestUpdate;
      const geo = document.createElement('select'); geo.id = `geo-${c}`; geo.onchange = requestUpdate;
      const name = document.createElement('td'); name.textContent = c;
      const a = document.createElement('td'); a.append(app);
      const g = document.createElement('td'); g.append(geo);
      tr.append(name, a, g); table.append(tr);
    }
    if (state.info.projection) {  // one "refine" slider per projected component
      const rows = $('projection-sliders');
      for (const c of state.info.projection.components) {
        const tr = document.createElement('tr');
        const name = document.createElement('td'); name.textContent = `refine ${c}`;
        const slider = document.createElement('input');
        Object.assign(slider, { type: 'range', id: `refine-${c}`, min: '0', max: '100', value: '0' });
        slider.title = `projection strength of ${c} (0: the sketch as drawn, 1: fully projected)`;
        const shown = document.createElement('span'); shown.id = `refine-${c}-value`; shown.textContent = '0.00';
        slider.oninput = () => { shown.textContent = (Number(slider.value) / 100).toFixed(2); };
        slider.onchange = requestUpdate;
        const s = document.createElement('td'); s.append(slider);
        const v = document.createElement('td'); v.append(shown);
        tr.append(name, s, v); rows.append(tr);
      }
      $('projection-k').textContent = `(K = ${state.info.projection.k} neighbours)`;
      $('projection').hidden = false;
    }
    if (!state.info.model_sketch) {  // no sketch decoders: the line extraction only
      $('sketch-method').value = 'extract';
      $('sketch-method').options[0].disabled = true;
    }
    renderRefs();
    drawOverlay();
    document.body.dataset.ready = '1';
    document.body.dataset.updates = '0';
    document.body.dataset.errors = '0';
  }
  start();
}());
