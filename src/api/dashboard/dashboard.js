// The dashboard: plain DOM, no framework, no build step. It signs in once
// (the token is exchanged for an HttpOnly session cookie), then reads the REST
// API and follows /events (Server-Sent Events) to update without reloading.
// Every value from the API is inserted with textContent, never as HTML.
const API = '/api/workflows/speckit';
const ACTIVE = ['pending', 'running', 'cancelling'];

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('data-') || key.startsWith('aria-') || key === 'href' || key === 'scope')
      node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(path, options = {}) {
  const response = await fetch(`${API}${path}`, {
    credentials: 'same-origin',
    ...options,
    headers: { accept: 'application/json', ...(options.body ? { 'content-type': 'application/json' } : {}) },
  });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function notice(message) {
  const box = $('notice');
  box.textContent = message ?? '';
  box.hidden = !message;
}

function show(section) {
  for (const id of ['sign-in', 'runs-view', 'run-view']) $(id).hidden = id !== section;
}

function formatTime(iso) {
  return iso ? new Date(iso).toLocaleString() : '—';
}

function formatDuration(run) {
  if (!run.startedAt) return '—';
  const end = run.finishedAt ? Date.parse(run.finishedAt) : Date.now();
  const seconds = Math.max(0, Math.round((end - Date.parse(run.startedAt)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60
    ? `${minutes} min ${seconds % 60} s`
    : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function statusBadge(status) {
  return el('span', { class: 'status', 'data-status': status, text: status });
}

function phaseLabel(run) {
  if (!run.phaseNumber) return '—';
  return run.phaseTitle ? `${run.phaseNumber}: ${run.phaseTitle}` : run.phaseNumber;
}

// ---- live events ----

let source = null;
function follow(runId, onMessage) {
  source?.close();
  const live = $('live');
  source = new EventSource(`${API}/events${runId ? `?runId=${encodeURIComponent(runId)}` : ''}`);
  source.addEventListener('ready', () => {
    live.textContent = 'live';
    live.classList.add('on');
  });
  source.addEventListener('error', () => {
    live.textContent = 'reconnecting…';
    live.classList.remove('on');
  });
  for (const type of ['run', 'task', 'artifact', 'resync']) {
    source.addEventListener(type, (event) => onMessage(type, JSON.parse(event.data)));
  }
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// ---- runs table ----

let nextCursor = null;

function filterQuery() {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData($('filters'))) if (value) params.set(key, String(value).trim());
  return params;
}

function runRow(run) {
  const link = el('a', { href: `/runs/${run.id}`, text: run.featureKey });
  return el(
    'tr',
    { 'data-run-id': run.id, 'data-status': run.status },
    el('td', { text: run.repository }),
    el('td', {}, link),
    el('td', { text: phaseLabel(run) }),
    el('td', {}, statusBadge(run.status)),
    el('td', { text: run.currentStep }),
    el('td', { text: formatTime(run.startedAt ?? run.createdAt) }),
    el('td', { text: formatDuration(run) }),
    el('td', {}, run.prUrl ? el('a', { href: run.prUrl, text: `#${run.prNumber ?? 'PR'}` }) : '—'),
  );
}

async function loadRuns(append = false) {
  const params = filterQuery();
  params.set('limit', '25');
  if (append && nextCursor) params.set('cursor', nextCursor);
  const page = await api(`/runs?${params}`);
  const body = $('runs-table').tBodies[0];
  if (!append) body.replaceChildren();
  for (const run of page.items) body.append(runRow(run));
  nextCursor = page.nextCursor;
  $('more').hidden = !nextCursor;
  $('runs-empty').hidden = body.rows.length > 0;
}

async function refreshRunRow(runId) {
  const row = document.querySelector(`tr[data-run-id="${CSS.escape(runId)}"]`);
  if (!row) return loadRuns();
  const run = await api(`/runs/${runId}`);
  row.replaceWith(runRow(run));
}

async function showRuns() {
  show('runs-view');
  document.title = 'speckit-bot runs';
  const params = new URLSearchParams(location.search);
  for (const element of $('filters').elements) {
    if (element.name && params.has(element.name)) element.value = params.get(element.name);
  }
  $('filters').onsubmit = (event) => {
    event.preventDefault();
    history.replaceState(null, '', `/?${filterQuery()}`);
    void loadRuns().catch(fail);
  };
  $('filters').onreset = () => {
    history.replaceState(null, '', '/');
    setTimeout(() => void loadRuns().catch(fail), 0);
  };
  $('more').onclick = () => void loadRuns(true).catch(fail);
  await loadRuns();
  const pending = new Set();
  const flush = debounce(() => {
    const ids = [...pending];
    pending.clear();
    for (const id of ids) void refreshRunRow(id).catch(fail);
  }, 100);
  follow(null, (type, data) => {
    if (type === 'resync') return void loadRuns().catch(fail);
    if (type === 'run' && data.op === 'insert') return void loadRuns().catch(fail);
    if (type === 'run' && data.op === 'delete') {
      document.querySelector(`tr[data-run-id="${CSS.escape(data.runId)}"]`)?.remove();
      return;
    }
    if (type === 'run') {
      pending.add(data.runId);
      flush();
    }
  });
}

// ---- one run ----

function payloadText(payload) {
  if (payload === null || payload === undefined) return null;
  const text = JSON.stringify(payload, null, 2);
  return text === '{}' ? null : text;
}

function renderTimeline(tasks) {
  const list = $('timeline');
  list.replaceChildren(
    ...tasks.map((task) => {
      const payload = payloadText(task.payload);
      const error = task.status === 'failed' && task.payload?.message;
      return el(
        'li',
        { 'data-step': task.taskName, 'data-attempt': String(task.attempt) },
        el('strong', { text: `${task.taskName} #${task.attempt}` }),
        ' ',
        statusBadge(task.status),
        ` ${formatTime(task.startedAt)} → ${task.finishedAt ? formatTime(task.finishedAt) : '…'}`,
        error ? el('div', { class: 'error-box', text: task.payload.message }) : null,
        payload ? el('details', {}, el('summary', { text: 'payload' }), el('pre', { text: payload })) : null,
      );
    }),
  );
  if (tasks.length === 0) list.append(el('li', { text: 'No step has started yet.' }));
}

function renderArtifacts(artifacts) {
  const list = $('artifacts');
  list.replaceChildren(
    ...artifacts.map((artifact) =>
      el(
        'li',
        {},
        el('a', {
          href: artifact.downloadUrl,
          text: `${artifact.step} #${artifact.attempt} ${artifact.artifactType}`,
        }),
        ` (${artifact.path}, ${artifact.sizeBytes} bytes)`,
      ),
    ),
  );
  if (artifacts.length === 0) list.append(el('li', { text: 'None yet.' }));
}

function renderActivity(activity) {
  const list = $('activity');
  list.replaceChildren(
    ...activity.items.map((item) => {
      const label = item.kind === 'command' ? `$ ${item.command}` : item.text;
      return el(
        'li',
        { 'data-kind': item.kind },
        el('span', { class: 'kind', text: `${item.kind.replace('_', ' ')} · attempt ${item.attempt}` }),
        item.kind === 'agent_message' || item.kind === 'turn'
          ? el('span', { text: label })
          : el('pre', { text: label }),
        item.kind === 'command' && item.output
          ? el(
              'details',
              {},
              el('summary', { text: `output (exit ${item.exitCode ?? '?'})` }),
              el('pre', { text: item.output }),
            )
          : null,
      );
    }),
  );
  if (activity.items.length === 0) list.append(el('li', { text: 'No Codex log yet.' }));
  if (activity.truncated) list.append(el('li', { text: 'The log is longer than shown; download it below.' }));
}

function renderRun(run) {
  document.title = `${run.featureKey} · ${run.status} · speckit-bot`;
  $('run-title').textContent = `${run.repository} · ${run.featureKey}`;
  const status = $('run-status');
  status.textContent = run.status;
  status.dataset.status = run.status;
  $('run-step').textContent = ACTIVE.includes(run.status) ? `(step ${run.currentStep})` : '';
  $('retry-button').hidden = run.status !== 'failed';
  $('cancel-button').hidden = !(run.status === 'pending' || run.status === 'running');
  const error = $('run-error');
  error.hidden = !run.error;
  error.textContent = run.error
    ? `${run.error.step ? `Failed at ${run.error.step}` : 'Failed'} (${run.error.code}): ${run.error.message}`
    : '';
  const facts = [
    ['Run id', run.id],
    ['Phase', phaseLabel(run)],
    ['Branch', run.branchName],
    ['Conclusion', run.conclusion ?? '—'],
    ['Summary', run.summary ?? '—'],
    ['Trigger', `${run.triggerKind} by ${run.triggerActor}`],
    ['Created by', run.createdBy],
    ['Created', formatTime(run.createdAt)],
    ['Started', formatTime(run.startedAt)],
    ['Finished', formatTime(run.finishedAt)],
    ['Duration', formatDuration(run)],
  ];
  const dl = $('run-facts');
  dl.replaceChildren(
    ...facts.flatMap(([term, value]) => [el('dt', { text: term }), el('dd', { text: value })]),
  );
  if (run.prUrl)
    dl.append(
      el('dt', { text: 'Pull request' }),
      el('dd', {}, el('a', { href: run.prUrl, text: run.prUrl })),
    );
  renderTimeline(run.tasks);
  renderArtifacts(run.artifacts);
}

async function showRun(runId) {
  show('run-view');
  const load = async () => renderRun(await api(`/runs/${runId}`));
  const loadActivity = async () => renderActivity(await api(`/runs/${runId}/codex-activity`));
  const command = (action, button) => async () => {
    button.disabled = true;
    try {
      const answer = await api(`/runs/${runId}/${action}`, { method: 'POST', body: '{}' });
      notice(null);
      renderRun({ ...(await api(`/runs/${runId}`)), ...answer.run });
    } catch (error) {
      fail(error);
    } finally {
      button.disabled = false;
    }
  };
  $('retry-button').onclick = command('retry', $('retry-button'));
  $('cancel-button').onclick = command('cancel', $('cancel-button'));
  try {
    await load();
  } catch (error) {
    if (error.status === 404) {
      $('run-title').textContent = 'Run not found';
      return;
    }
    throw error;
  }
  await loadActivity().catch(fail);
  const reload = debounce(() => void load().catch(fail), 50);
  const reloadActivity = debounce(() => void loadActivity().catch(fail), 200);
  follow(runId, (type, data) => {
    reload();
    if (type === 'artifact' || type === 'resync' || (type === 'task' && data.taskName === 'codex'))
      reloadActivity();
  });
}

// ---- start ----

function fail(error) {
  if (error instanceof ApiError && error.status === 401) {
    source?.close();
    return void signIn();
  }
  notice(error.message ?? String(error));
}

async function signIn() {
  show('sign-in');
  $('sign-out').hidden = true;
  $('token').focus();
  $('sign-in-form').onsubmit = async (event) => {
    event.preventDefault();
    const token = $('token').value;
    try {
      await api('/session', { method: 'POST', body: JSON.stringify({ token }) });
      $('token').value = '';
      notice(null);
      await route();
    } catch (error) {
      notice(error.message);
    }
  };
}

async function route() {
  const session = await api('/session').catch((error) => error);
  if (session instanceof ApiError && session.status === 503) {
    show(null);
    notice(session.message);
    return;
  }
  if (session instanceof Error) throw session;
  if (!session.authenticated) return signIn();
  $('sign-out').hidden = false;
  const match = /^\/runs\/([0-9a-fA-F-]{36})\/?$/.exec(location.pathname);
  if (match) await showRun(match[1]);
  else await showRuns();
}

$('sign-out').onclick = async () => {
  source?.close();
  await api('/session', { method: 'DELETE' }).catch(() => null);
  location.assign('/');
};

route().catch(fail);
