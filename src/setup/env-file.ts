// Reads and updates a `.env` file (KEY=value lines) without losing the lines
// it does not touch. Values with newlines are written double-quoted with `\n`
// escapes, which Node's --env-file, dotenv and docker compose all read back.
import { readFile, rename, writeFile } from 'node:fs/promises';

export function formatEnvValue(value: string): string {
  if (/^[A-Za-z0-9_./:@+-]*$/.test(value)) return value;
  // Single quotes are literal in every .env reader; newlines need double quotes.
  if (!/[\r\n']/.test(value)) return `'${value}'`;
  if (value.includes('"') || value.includes('\\')) {
    throw new Error('a .env value may not hold both a newline and a quote or backslash');
  }
  return `"${value.replace(/\r?\n/g, '\\n')}"`;
}

/** The keys a .env text assigns (ignores comments and blank lines). */
export function envKeys(text: string): Set<string> {
  const keys = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (match?.[1] && match[2] !== undefined && match[2].trim() !== '') keys.add(match[1]);
  }
  return keys;
}

/** Sets `values` in the file at `file` (created 0600 when missing), keeping the other lines. */
export async function updateEnvFile(file: string, values: Record<string, string>): Promise<void> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const pending = new Map(Object.entries(values));
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const updated = lines.map((line) => {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    const key = match?.[1];
    if (key && pending.has(key)) {
      const value = pending.get(key) ?? '';
      pending.delete(key);
      return `${key}=${formatEnvValue(value)}`;
    }
    return line;
  });
  for (const [key, value] of pending) updated.push(`${key}=${formatEnvValue(value)}`);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${updated.join('\n')}\n`, { mode: 0o600 });
  await rename(temporary, file);
}
