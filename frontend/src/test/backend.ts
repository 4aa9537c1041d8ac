// The real backend for jest tests: the Go front (tests/e2e/cmd/front) over the release
// binary on a fresh demo store, reached with Node's http module (jsdom has no fetch). The
// binaries come from MATURITY_FRONT_BIN / MATURITY_PLUGIN_BIN / MATURITY_CLI_BIN, else the
// repository's build outputs; scripts/test builds them before the frontend suites run.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { existsSync, mkdtempSync, rmSync } from 'fs';
import http from 'http';
import { tmpdir } from 'os';
import path from 'path';
import readline from 'readline';

const repo = path.resolve(__dirname, '../../..');

function binary(env: string, rel: string): string {
  const p = path.resolve(process.env[env] ?? path.join(repo, rel));
  if (!existsSync(p)) {
    throw new Error(`no ${rel} at ${p}: build it first (scripts/test does) or set ${env}`);
  }
  return p;
}

/** The maturity CLI. */
export function cliBinary(): string {
  return binary('MATURITY_CLI_BIN', 'target/release/maturity');
}

/** An answer of the front. */
export interface HttpAnswer<T = unknown> {
  status: number;
  body: T;
}

/** One JSON request to the front, as `login` with `role`. */
export function request<T = unknown>(
  base: string,
  method: string,
  url: string,
  body?: unknown,
  user = { login: 'alice', role: 'Editor' }
): Promise<HttpAnswer<T>> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      `${base}${url}`,
      {
        method,
        headers: {
          'Content-Type': 'application/json',
          'X-Harness-User': user.login,
          'X-Harness-Role': user.role,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
      }
    );
    req.on('error', reject);
    if (payload) {
      req.write(payload);
    }
    req.end();
  });
}

/** A running front over a demo store. */
export interface Backend {
  base: string;
  stop: () => Promise<void>;
}

/** Starts the front on a free port over a fresh demo store. */
export async function startBackend(): Promise<Backend> {
  const work = mkdtempSync(path.join(tmpdir(), 'maturity-jest-'));
  const db = path.join(work, 'demo.db');
  execFileSync(cliBinary(), ['--db', db, 'demo'], { stdio: 'ignore' });
  const child: ChildProcess = spawn(
    binary('MATURITY_FRONT_BIN', 'tests/e2e/bin/front'),
    [
      '-addr',
      '127.0.0.1:0',
      '-plugin',
      binary('MATURITY_PLUGIN_BIN', 'target/release/gpx_maturity'),
      '-db',
      db,
      '-plugin-log',
      path.join(work, 'plugin.log'),
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] }
  );
  const base = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) {
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`the front exited with ${code}`)));
    setTimeout(() => reject(new Error('the front did not start in 30 s')), 30000);
  });
  return {
    base,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          rmSync(work, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Sends queries the way Grafana's /api/ds/query receives them. */
export function runQueries(base: string, queries: object[], from = 'now-90d', to = 'now') {
  return request<{ results: Record<string, { status?: number; error?: string; frames?: unknown[] }> }>(
    base,
    'POST',
    '/api/ds/query',
    { from, to, queries }
  );
}
