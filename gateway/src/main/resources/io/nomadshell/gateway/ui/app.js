// Nomad Shell's web UI: plain modules, no build step. It speaks the same REST + SSE API as any client.
const $ = (id) => document.getElementById(id);
const keyInput = $('api-key');
keyInput.value = localStorage.getItem('nomad-shell-key') || '';
keyInput.addEventListener('change', () => {
  localStorage.setItem('nomad-shell-key', keyInput.value.trim());
  route();
});

function auth(extra = {}) {
  const key = keyInput.value.trim();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: auth(options.headers) });
  const text = await response.text();
  const body = text ? JSON.parse(text) : {};
  if (!response.ok) {
    throw new Error(body.message || `HTTP ${response.status}`);
  }
  return body;
}

let leave = () => {};
// The open job page's own refresh and follow, for the buttons that act on it.
let jobPage = null;

function route() {
  leave();
  const match = location.hash.match(/^#\/jobs\/([A-Za-z0-9_-]+)$/);
  $('home').hidden = !!match;
  $('job').hidden = !match;
  jobPage = null;
  leave = match ? showJob(match[1]) : showHome();
}

// ---- home: submit a task, list jobs ----
function showHome() {
  let timer = 0;
  const refresh = async () => {
    try {
      const { jobs = [] } = await api('/v1/jobs?page_size=50');
      const rows = jobs.map((job) => {
        const row = document.createElement('tr');
        row.dataset.jobId = job.job_id;
        row.innerHTML = `<td><a href="#/jobs/${job.job_id}"><code>${job.job_id}</code></a></td>`
          + `<td><span class="status ${job.status}">${job.status}</span></td><td class="task"></td><td></td>`;
        row.cells[2].textContent = job.task;
        row.cells[3].textContent = new Date(job.created_at).toLocaleString();
        return row;
      });
      document.querySelector('#jobs tbody').replaceChildren(...rows);
      $('submit-error').hidden = true;
    } catch (e) {
      showError($('submit-error'), e);
    }
    timer = setTimeout(refresh, 2000);
  };
  refresh();
  return () => clearTimeout(timer);
}

$('submit-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const { job_id: id } = await api('/v1/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ task: $('task').value }),
    });
    $('task').value = '';
    location.hash = `#/jobs/${id}`;
  } catch (e) {
    showError($('submit-error'), e);
  }
});

// ---- job page: state, live events (SSE with resume), previews, download ----
function showJob(id) {
  const abort = new AbortController();
  let last = 0;
  let following = false;
  $('job-id').textContent = id;
  $('events').replaceChildren();
  $('preview-link').hidden = true;
  $('job-error').hidden = true;
  $('message-error').hidden = true;
  $('message-form').hidden = true;
  $('checkpoints-section').hidden = true;
  $('job-origin').hidden = true;

  const refresh = async () => {
    try {
      const job = await api(`/v1/jobs/${id}`);
      $('job-status').textContent = job.status;
      $('job-status').className = `status ${job.status}`;
      $('job-task').textContent = job.task;
      $('job-meta').textContent = `${job.steps || 0} steps · ${job.total_tokens || 0} tokens`
        + (job.artifact_bytes ? ` · zip ${job.artifact_bytes} bytes` : '');
      if (job.checkpoint_step > 0) {
        $('job-meta').textContent += ` · checkpoint ${stepPoint(job.checkpoint_step)}`;
      }
      $('job-origin').hidden = !job.forked_from;
      if (job.forked_from) {
        $('job-origin-link').textContent = job.forked_from;
        $('job-origin-link').href = `#/jobs/${encodeURIComponent(job.forked_from)}`;
        $('job-origin-step').textContent = stepPoint(job.forked_from_step || 0);
      }
      const ended = ['complete', 'error', 'cancelled'].includes(job.status);
      // A complete job's project, or what a job that failed or was cancelled left (partial).
      $('download').hidden = !job.download_url;
      $('download').textContent = job.artifact_partial ? 'Download partial zip' : 'Download zip';
      $('cancel').hidden = ended;
      // Only the states that know these actions offer them: a state this page does not know offers neither.
      $('pause').hidden = !['pending', 'starting', 'running'].includes(job.status);
      $('pause').disabled = !!job.pause_requested;
      $('pause').textContent = job.pause_requested ? 'Pausing after this step…' : 'Pause';
      $('resume').hidden = job.status !== 'paused';
      $('previews').hidden = job.status !== 'running';
      // Any job may be told something; the server says when it cannot take it.
      $('message-form').hidden = false;
      if (job.error) {
        showError($('job-error'), new Error(job.error));
      }
    } catch (e) {
      showError($('job-error'), e);
    }
    await showCheckpoints(id, abort.signal);
  };

  // Reads the event stream with fetch (an EventSource cannot send the API key); reconnects with
  // Last-Event-ID, so no event is lost or shown twice.
  const follow = async () => {
    following = true;
    try {
      await read();
    } finally {
      following = false;
    }
  };

  const read = async () => {
    while (!abort.signal.aborted) {
      try {
        const response = await fetch(`/v1/jobs/${id}/events`, {
          headers: auth({ 'Last-Event-ID': String(last) }),
          signal: abort.signal,
        });
        if (!response.ok) {
          const body = await response.json().catch(() => ({}));
          throw new Error(body.message || `HTTP ${response.status}`);
        }
        $('live').hidden = false;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const ended = dispatch(buffer.slice(0, cut));
            buffer = buffer.slice(cut + 2);
            if (ended) {
              $('live').hidden = true;
              await refresh();
              return;
            }
          }
        }
      } catch (e) {
        if (abort.signal.aborted) return;
        showError($('job-error'), e);
      }
      $('live').hidden = true;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };

  // One SSE block; returns true on the final 'end' event.
  const dispatch = (block) => {
    const fields = { id: '', event: '', data: '' };
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue; // comments (keepalives) and blank lines
      fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
    }
    if (fields.event === 'end') return true;
    if (!fields.id) return false;
    last = Number(fields.id);
    const event = JSON.parse(fields.data);
    show(fields.event, event);
    $('events').scrollTop = $('events').scrollHeight;
    if (['status_changed', 'artifact_ready', 'checkpointed', 'rolled_back'].includes(fields.event)) refresh();
    return false;
  };

  refresh();
  follow();
  // After a message, a resume or a rollback the job may go on although its stream had ended: follow it again.
  jobPage = {
    changed: () => {
      refresh();
      if (!following && !abort.signal.aborted) follow();
    },
  };
  return () => abort.abort();
}

// Step 0 is the workspace before the first step.
function stepPoint(step) {
  return step ? `after step ${step}` : 'before the first step';
}

// The steps the job can go back to or fork from. A server without checkpoints answers 404: no section.
async function showCheckpoints(id, left) {
  let checkpoints;
  try {
    ({ checkpoints = [] } = await api(`/v1/jobs/${id}/checkpoints`));
  } catch (e) {
    checkpoints = [];
  }
  if (left.aborted) return;
  const rows = checkpoints.map((checkpoint) => {
    const step = checkpoint.step || 0;
    const row = document.createElement('tr');
    row.dataset.step = step;
    for (const text of [stepPoint(step), String(checkpoint.files || 0),
      checkpoint.created_at ? new Date(checkpoint.created_at).toLocaleString() : '']) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    const actions = document.createElement('td');
    actions.append(
      actionButton('Roll back here', 'rollback', () => rollback(id, step)),
      actionButton('Fork from here', 'fork', () => fork(id, step)),
    );
    row.append(actions);
    return row;
  });
  document.querySelector('#checkpoints tbody').replaceChildren(...rows);
  $('checkpoints-section').hidden = rows.length === 0;
}

function actionButton(label, name, onClick) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = `secondary ${name}`;
  button.textContent = label;
  button.addEventListener('click', onClick);
  return button;
}

// A job action by POST; the server's refusal is shown in its words.
async function act(path, body = {}) {
  try {
    const job = await api(path, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    $('job-error').hidden = true;
    return job;
  } catch (e) {
    showError($('job-error'), e);
    return null;
  }
}

async function rollback(id, step) {
  if (!window.confirm(`Take job ${id} back to ${stepPoint(step)}? Its files and conversation go back to then, and it waits paused.`)) return;
  if (await act(`/v1/jobs/${id}:rollback`, { step })) jobPage?.changed();
}

// The fork is a new job: its page is where to watch it.
async function fork(id, step) {
  const job = await act(`/v1/jobs/${id}:fork`, { step });
  if (job?.job_id) location.hash = `#/jobs/${job.job_id}`;
}

// The assistant's answer streams in pieces (assistant_delta): they grow one bubble per step, which
// the whole answer (assistant_message) then replaces. A step whose pieces were not seen (a stream
// resumed later on) gets its whole answer as a bubble of its own.
function show(kind, event) {
  if (kind === 'assistant_delta' || kind === 'assistant_message') {
    const step = event[kind]?.step ?? 0;
    const bubble = document.querySelector(`#events li.assistant_message.streaming[data-step="${step}"]`);
    if (bubble) {
      const text = bubble.querySelector('.text');
      if (kind === 'assistant_delta') {
        text.textContent += event.assistant_delta?.text || '';
      } else if (event.assistant_message?.text) {
        text.textContent = event.assistant_message.text;
        bubble.classList.remove('streaming');
      } else {
        // All it said were calls written as text, now shown as calls: no words are left.
        bubble.remove();
        return;
      }
      bubble.dataset.sequence = event.sequence;
      bubble.querySelector('.seq').textContent = String(event.sequence).padStart(3, ' ');
      return;
    }
    if (kind === 'assistant_message' && !event.assistant_message?.text) {
      return;
    }
  }
  if (kind === 'status_changed') {
    // An answer cut short by the job's end stays as far as it came, no longer marked as growing.
    document.querySelectorAll('#events li.streaming').forEach((bubble) => bubble.classList.remove('streaming'));
  }
  $('events').append(render(kind, event));
}

function render(kind, event) {
  const item = document.createElement('li');
  item.className = kind;
  item.dataset.sequence = event.sequence;
  if (kind === 'assistant_delta') {
    // The first piece of a step's answer opens its bubble, which the next pieces grow.
    item.className = 'assistant_message streaming';
    item.dataset.step = event.assistant_delta?.step ?? 0;
  }
  const text = {
    status_changed: () => `● ${event.status_changed?.status}${event.status_changed?.error ? ': ' + event.status_changed.error : ''}`,
    assistant_message: () => event.assistant_message?.text,
    assistant_delta: () => event.assistant_delta?.text,
    tool_started: () => `▶ ${event.tool_started?.tool} ${event.tool_started?.arguments || ''}`,
    tool_output: () => event.tool_output?.text,
    tool_finished: () => `${event.tool_finished?.ok ? '✓' : '✗'} ${event.tool_finished?.duration_ms || 0} ms`,
    artifact_ready: () => (event.artifact_ready?.partial
      ? `● partial zip kept: ${event.artifact_ready?.bytes} bytes, what the job left in its workspace`
      : `● zip ready: ${event.artifact_ready?.bytes} bytes`),
    screenshot: () => `◧ screenshot (${event.screenshot?.call_id})`,
    handed_over: () => `● handed over: ${event.handed_over?.reason}${event.handed_over?.sandbox_kept ? ' (its sandbox runs on)' : ''}`,
    user_message: () => `you: ${event.user_message?.text || ''}`,
    checkpointed: () => `◆ checkpoint ${stepPoint(event.checkpointed?.step || 0)} (${event.checkpointed?.files || 0} files)`,
    rolled_back: () => `↺ rolled back to ${stepPoint(event.rolled_back?.step || 0)}: the files and the conversation as they were then`,
    webhook_delivery: () => {
      const d = event.webhook_delivery || {};
      const answer = d.status_code ? `HTTP ${d.status_code}` : d.error;
      return `↗ webhook ${d.status} attempt ${d.attempt}: ${d.delivered ? 'delivered' : answer + (d.gave_up ? ', gave up' : ', will retry')}`;
    },
  }[kind];
  const seq = document.createElement('span');
  seq.className = 'seq';
  seq.textContent = String(event.sequence).padStart(3, ' ');
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text ? text() || '' : kind;
  item.append(seq, body);
  if (kind === 'screenshot') item.append(screenshot(event.screenshot));
  return item;
}

// A screenshot link needs the API key, which an <img src> cannot send: fetch it, show the blob.
function screenshot(shot) {
  const image = document.createElement('img');
  image.className = 'screenshot';
  image.alt = `screenshot of ${shot.call_id}`;
  image.width = shot.width;
  image.height = shot.height;
  fetch(shot.url, { headers: auth() })
    .then((response) => (response.ok ? response.blob() : Promise.reject(new Error(response.statusText))))
    .then((blob) => { image.src = URL.createObjectURL(blob); })
    .catch(() => { image.alt = `screenshot of ${shot.call_id} (not available)`; });
  return image;
}

$('download').addEventListener('click', async () => {
  const id = $('job-id').textContent;
  try {
    const response = await fetch(`/download/${id}`, { headers: auth() });
    if (!response.ok) throw new Error((await response.json()).message);
    const link = document.createElement('a');
    link.href = URL.createObjectURL(await response.blob());
    link.download = `${id}.zip`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  } catch (e) {
    showError($('job-error'), e);
  }
});

$('pause').addEventListener('click', async () => {
  if (await act(`/v1/jobs/${$('job-id').textContent}:pause`)) jobPage?.changed();
});

$('resume').addEventListener('click', async () => {
  if (await act(`/v1/jobs/${$('job-id').textContent}:resume`)) jobPage?.changed();
});

$('message-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    await api(`/v1/jobs/${$('job-id').textContent}/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: $('message').value }),
    });
    $('message').value = '';
    $('message-error').hidden = true;
    jobPage?.changed();
  } catch (e) {
    showError($('message-error'), e);
  }
});

$('cancel').addEventListener('click', async () => {
  if (await act(`/v1/jobs/${$('job-id').textContent}:cancel`)) jobPage?.changed();
});

// A sandbox's pages open in a tab of their own, on the preview origin of their port, never on this
// one (which holds the API key): the API gives a short-lived link, which that origin turns into a
// cookie of its own. The tab is opened at once (a popup blocker honours the click only briefly; a
// service may take seconds to start) and gets no handle back on this page.
async function openPreview(query) {
  const tab = window.open('', '_blank');
  try {
    const link = await api(`/v1/jobs/${$('job-id').textContent}/links?${query}`, { method: 'POST' });
    if (tab) {
      tab.opener = null;
      tab.location.replace(link.url);
    } else {
      $('preview-link').href = link.url;
      $('preview-link').hidden = false;
    }
  } catch (e) {
    if (tab) tab.close();
    showError($('job-error'), e);
  }
}

$('open-desktop').addEventListener('click', () => openPreview('service=desktop'));
$('open-jupyter').addEventListener('click', () => openPreview('service=jupyter'));
$('previews').addEventListener('submit', (event) => {
  event.preventDefault();
  const port = Number($('preview-port').value);
  if (Number.isInteger(port) && port >= 1 && port <= 65535) openPreview(`port=${port}`);
});

function showError(element, error) {
  element.textContent = error.message;
  element.hidden = false;
}

window.addEventListener('hashchange', route);
route();
