// Issue #9 item 8: every command and trigger under every permission level,
// through probot.receive() with GitHub's example payloads and the intake's
// admission, against the rules of issue #7:
// - run, retry and cancel need write, maintain or admin access; so do the
//   `speckit:run` label and the check run's Re-run and buttons, which start or
//   retry runs;
// - plan, status and help are open to anyone who can comment;
// - bots, the app's own comments included, are ignored (nothing recorded).
// Prints the table it observed (trigger × role) and asserts it cell by cell.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TASKS } from '../fixtures/demo-repo.ts';
import { removeTempDirs } from '../support/git-fixtures.ts';
import {
  type ControlHarness,
  checkRunEvent,
  commentEvent,
  insertRun,
  labeledEvent,
  ROLES,
  reactions,
  settleActiveRuns,
  startControlHarness,
} from './support.ts';

const INSTALLATION_ID = 711;

type Outcome = 'admitted' | 'refused' | 'ignored';

/** Each permission level and who has it (the fake GitHub answers their role). */
const SENDERS = {
  admin: { login: 'Codertocat', type: 'User' },
  maintain: { login: 'maintainer', type: 'User' },
  write: { login: 'writer', type: 'User' },
  triage: { login: 'triager', type: 'User' },
  read: { login: 'reader', type: 'User' },
  none: { login: 'stranger', type: 'User' }, // not a collaborator: GitHub answers "none"
  '404': { login: 'ghost', type: 'User' }, // GitHub answers 404 for the permission
  bot: { login: 'dependabot[bot]', type: 'Bot' },
  app: { login: 'speckit-bot[bot]', type: 'Bot' }, // the app's own comments and events
} as const;
type Role = keyof typeof SENDERS;
type Sender = (typeof SENDERS)[Role];
const ROLE_NAMES: readonly Role[] = [
  'admin',
  'maintain',
  'write',
  'triage',
  'read',
  'none',
  '404',
  'bot',
  'app',
];

const WRITE_ACCESS: Record<Role, Outcome> = {
  admin: 'admitted',
  maintain: 'admitted',
  write: 'admitted',
  triage: 'refused',
  read: 'refused',
  none: 'refused',
  '404': 'refused',
  bot: 'ignored',
  app: 'ignored',
};
const ANYONE: Record<Role, Outcome> = {
  ...WRITE_ACCESS,
  triage: 'admitted',
  read: 'admitted',
  none: 'admitted',
  '404': 'admitted',
};

/** What #7 specifies, row by row. */
const EXPECTED: Record<TriggerName, Record<Role, Outcome>> = {
  '/speckit run': WRITE_ACCESS,
  '/speckit retry': WRITE_ACCESS,
  '/speckit cancel': WRITE_ACCESS,
  '/speckit plan': ANYONE,
  '/speckit status': ANYONE,
  '/speckit help': ANYONE,
  'label speckit:run': WRITE_ACCESS,
  'Re-run (failed run)': WRITE_ACCESS,
  'Re-run (succeeded run)': WRITE_ACCESS,
  'button Retry': WRITE_ACCESS,
  'button Next phase': WRITE_ACCESS,
  'button Run all': WRITE_ACCESS,
};

/** One trigger fired by one sender: its delivery and whether it did what it asks for. */
interface Fired {
  deliveryId: string;
  /** A comment command (its acceptance shows as an 👀). */
  comment: boolean;
  done(replies: string[]): Promise<boolean>;
}

let h: ControlHarness;
let cells = 0;

beforeAll(async () => {
  h = await startControlHarness({
    installationId: INSTALLATION_ID,
    roles: { ...ROLES, ghost: '404' },
    readFile: async (ref, path) =>
      ref === 'master' && path === 'specs/001-demo/tasks.md' ? DEMO_TASKS : null,
  });
});

afterAll(async () => {
  await h?.stop();
  await removeTempDirs();
});

const repo = { installationId: INSTALLATION_ID };

async function comment(
  sender: Sender,
  body: string,
  done: (deliveryId: string, replies: string[]) => Promise<boolean>,
): Promise<Fired> {
  const payload = commentEvent(body, { ...repo, sender: sender.login, senderType: sender.type });
  const deliveryId = await h.receive('issue_comment', payload);
  return { deliveryId, comment: true, done: (replies) => done(deliveryId, replies) };
}

/** A run of its own for this cell, in the state the trigger acts on. */
function fixtureRun(status: 'failed' | 'running' | 'succeeded') {
  const finished = status !== 'running';
  return insertRun(h.prisma, {
    installationId: BigInt(INSTALLATION_ID),
    featureKey: `${String(++cells).padStart(3, '0')}-matrix`,
    status,
    conclusion: status === 'failed' ? 'failure' : status === 'succeeded' ? 'success' : null,
    currentStep: finished ? 'finalize' : 'codex',
    errorStep: status === 'failed' ? 'codex' : null,
    finishedAt: finished ? new Date() : null,
  });
}

const statusOf = async (id: string) =>
  (await h.prisma.specWorkflowRun.findUniqueOrThrow({ where: { id } })).status;
const startedRun = async (deliveryId: string) =>
  (await h.prisma.specWorkflowRun.count({ where: { triggerDeliveryId: deliveryId } })) === 1;

async function checkRun(
  sender: Sender,
  status: 'failed' | 'succeeded',
  action: 'rerequested' | 'requested_action',
  identifier?: string,
): Promise<Fired> {
  const run = await fixtureRun(status);
  const payload = checkRunEvent(action, {
    ...repo,
    externalId: run.id,
    sender: sender.login,
    senderType: sender.type,
    ...(identifier ? { identifier } : {}),
  });
  const deliveryId = await h.receive('check_run', payload);
  return {
    deliveryId,
    comment: false,
    // A failed run is retried in place; after a success a new run starts the next phase.
    done: async () => (status === 'failed' ? (await statusOf(run.id)) === 'running' : startedRun(deliveryId)),
  };
}

const TRIGGERS = {
  '/speckit run': (sender) =>
    comment(sender, `/speckit run ${String(++cells).padStart(3, '0')}-run`, startedRun),
  '/speckit retry': async (sender) => {
    const run = await fixtureRun('failed');
    return comment(sender, `/speckit retry ${run.id}`, async () => (await statusOf(run.id)) === 'running');
  },
  '/speckit cancel': async (sender) => {
    const run = await fixtureRun('running');
    return comment(
      sender,
      `/speckit cancel ${run.id}`,
      async () => (await statusOf(run.id)) === 'cancelling',
    );
  },
  '/speckit plan': (sender) =>
    comment(sender, '/speckit plan 001-demo', async (_, replies) =>
      replies.some((r) => r.includes('### Spec Kit plan · `001-demo`')),
    ),
  '/speckit status': (sender) =>
    comment(sender, '/speckit status', async (_, replies) =>
      replies.some((r) => r.includes('### Spec Kit status')),
    ),
  '/speckit help': (sender) =>
    comment(sender, '/speckit help', async (_, replies) =>
      replies.some((r) => r.startsWith('Usage (one command')),
    ),
  'label speckit:run': async (sender) => {
    const number = 100 + ++cells;
    h.github.labels.set(number, ['speckit:run']);
    const payload = labeledEvent({
      ...repo,
      headRef: `${String(cells).padStart(3, '0')}-label`,
      number,
      sender: sender.login,
      senderType: sender.type,
    });
    const deliveryId = await h.receive('pull_request', payload);
    return { deliveryId, comment: false, done: () => startedRun(deliveryId) };
  },
  'Re-run (failed run)': (sender) => checkRun(sender, 'failed', 'rerequested'),
  'Re-run (succeeded run)': (sender) => checkRun(sender, 'succeeded', 'rerequested'),
  'button Retry': (sender) => checkRun(sender, 'failed', 'requested_action', 'retry'),
  'button Next phase': (sender) => checkRun(sender, 'succeeded', 'requested_action', 'next_phase'),
  'button Run all': (sender) => checkRun(sender, 'succeeded', 'requested_action', 'run_all'),
} satisfies Record<string, (sender: Sender) => Promise<Fired>>;
type TriggerName = keyof typeof TRIGGERS;

const REFUSAL = 'only collaborators with write, maintain or admin access';

/** Fires `trigger` as `role` and classifies what happened; anything else is described. */
async function observe(trigger: TriggerName, role: Role): Promise<string> {
  const commentsBefore = new Set(h.github.comments.keys());
  const eyesBefore = reactions(h.github).length;
  const fired = await TRIGGERS[trigger](SENDERS[role]);
  const recorded = await h.prisma.webhookDelivery.findUnique({ where: { id: fired.deliveryId } });
  if (recorded) await h.admit(fired.deliveryId);
  const replies = [...h.github.comments.entries()]
    .filter(([id]) => !commentsBefore.has(id))
    .map(([, c]) => c.body as string);
  const eyes = reactions(h.github).length - eyesBefore;
  const done = await fired.done(replies);
  // Settle what the cell started, so that no limit or active run carries over to the next.
  await settleActiveRuns(h.prisma);
  const refused = replies.some((r) => r.includes(`@${SENDERS[role].login} ${REFUSAL}`));
  if (!recorded && replies.length === 0 && eyes === 0) return 'ignored';
  if (done && !refused && eyes === (fired.comment ? 1 : 0)) return 'admitted';
  if (!done && refused && replies.length === 1 && eyes === 0) return 'refused';
  return `unexpected: recorded=${Boolean(recorded)} done=${done} eyes=${eyes} replies=${JSON.stringify(replies)}`;
}

const SYMBOLS: Record<string, string> = { admitted: '✔', refused: '✖ reply', ignored: '· ignored' };

function printTable(observed: Record<string, Record<string, string>>): void {
  const width = Math.max(...Object.keys(observed).map((k) => k.length));
  const cell = (value: string) => (SYMBOLS[value] ?? '?!').padEnd(9);
  const lines = [
    `${'trigger'.padEnd(width)} | ${ROLE_NAMES.map((r) => r.padEnd(9)).join(' | ')}`,
    `${'-'.repeat(width)}-|-${ROLE_NAMES.map(() => '-'.repeat(9)).join('-|-')}`,
    ...Object.entries(observed).map(
      ([trigger, row]) =>
        `${trigger.padEnd(width)} | ${ROLE_NAMES.map((r) => cell(row[r] ?? '')).join(' | ')}`,
    ),
  ];
  console.log(`Permission matrix (✔ admitted, ✖ refused with a reply, · ignored):\n${lines.join('\n')}`);
}

describe('the permission matrix of issue #7', () => {
  it('admits, refuses with a reply or ignores every trigger for every role as #7 specifies', async () => {
    const observed: Record<string, Record<string, string>> = {};
    for (const trigger of Object.keys(EXPECTED) as TriggerName[]) {
      const row: Record<string, string> = {};
      for (const role of ROLE_NAMES) row[role] = await observe(trigger, role);
      observed[trigger] = row;
    }
    printTable(observed);
    expect(observed).toEqual(EXPECTED);
  });
});
