// The browser test (issue 9): Debian's chromium, driven by playwright-core, opens the harness
// page served by the Go front over the real backend binary on a fresh demo store, picks a team
// from the real team list, switches through every query type of the backend's schema, runs
// each, checks that the rendered answer is the backend's answer with no error, and saves
// screenshots of the editors and answers into img/screenshots/. Then the annotation layer,
// the variable editor and the settings page, a passive view recorded by the panel's queries,
// and the light theme.
//
// Needs (scripts/test builds them): the release binaries, the front (tests/e2e/bin/front),
// `npm run build:harness`. Env: MATURITY_PLUGIN_BIN, MATURITY_CLI_BIN, MATURITY_FRONT_BIN,
// CHROMIUM (default /usr/bin/chromium), SCREENSHOTS (default ../img/screenshots).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const frontend = path.resolve(here, '..');
const repo = path.resolve(frontend, '..');
const bin = (env, rel) => path.resolve(process.env[env] ?? path.join(repo, rel));
const pluginBin = bin('MATURITY_PLUGIN_BIN', 'target/release/gpx_maturity');
const cliBin = bin('MATURITY_CLI_BIN', 'target/release/maturity');
const frontBin = bin('MATURITY_FRONT_BIN', 'tests/e2e/bin/front');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const shots = path.resolve(process.env.SCREENSHOTS ?? path.join(repo, 'img/screenshots'));
const harnessDir = path.join(frontend, 'dist-harness');
const failures = path.join(frontend, 'test-results');

for (const [what, p] of [
  ['plugin binary', pluginBin],
  ['maturity CLI', cliBin],
  ['Go front', frontBin],
  ['chromium', chromiumPath],
  ['harness build (npm run build:harness)', path.join(harnessDir, 'harness.js')],
]) {
  if (!existsSync(p)) {
    console.error(`browser test: no ${what} at ${p}`);
    process.exit(1);
  }
}

const schema = JSON.parse(readFileSync(path.join(frontend, 'src/datasource/query.schema.json'), 'utf8'));
const queryTypes = schema.oneOf.map(({ $ref }) => {
  const def = schema.definitions[$ref.replace('#/definitions/', '')];
  return { queryType: def.properties.queryType.const, hasTeam: 'team' in def.properties };
});
const humanize = (key) => {
  const w = key.replace(/([A-Z])/g, ' $1').toLowerCase();
  return w.charAt(0).toUpperCase() + w.slice(1);
};

const work = mkdtempSync(path.join(tmpdir(), 'maturity-browser-'));
const db = path.join(work, 'demo.db');
execFileSync(cliBin, ['--db', db, 'demo'], { stdio: 'ignore' });

const front = spawn(
  frontBin,
  [
    '-addr',
    '127.0.0.1:0',
    '-plugin',
    pluginBin,
    '-db',
    db,
    '-static',
    harnessDir,
    '-ui-img',
    path.join(frontend, 'node_modules/@grafana/ui/dist/public/img'),
    '-plugin-log',
    path.join(work, 'plugin.log'),
  ],
  { stdio: ['ignore', 'pipe', 'pipe'] }
);
front.stderr.on('data', () => {});
const base = await new Promise((resolve, reject) => {
  const lines = readline.createInterface({ input: front.stdout });
  lines.on('line', (line) => {
    const m = /listening on (http:\/\/\S+)/.exec(line);
    if (m) {
      resolve(m[1]);
    }
  });
  front.on('exit', (code) => reject(new Error(`the front exited with ${code}`)));
  setTimeout(() => reject(new Error('the front did not start in 30 s')), 30000);
});

async function api(pathAndQuery, init = {}) {
  const res = await fetch(`${base}${pathAndQuery}`, {
    ...init,
    headers: {
      'X-Harness-User': 'alice',
      'X-Harness-Role': 'Editor',
      'Content-Type': 'application/json',
      ...(init.headers ?? {}),
    },
  });
  return { status: res.status, body: await res.json() };
}

/** Rows of every frame of one refId in Grafana's /api/ds/query answer. */
function rowsOf(answer, refId) {
  const frames = answer.results?.[refId]?.frames ?? [];
  return frames.reduce((n, f) => n + (f.data?.values?.[0]?.length ?? 0), 0);
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
page.setDefaultTimeout(10000);
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
mkdirSync(shots, { recursive: true });

async function shot(name) {
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

/** Picks an option of a @grafana/ui Select by typing its label and pressing Enter. */
async function pick(inputSelector, label) {
  const input = page.locator(inputSelector);
  await input.click();
  await input.fill(label);
  await page.waitForTimeout(250);
  await input.press('Enter');
  await page.keyboard.press('Escape');
}

let failed = 0;
async function step(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
    mkdirSync(failures, { recursive: true });
    await page
      .screenshot({ path: path.join(failures, `${name.replace(/\W+/g, '-')}.png`), fullPage: true })
      .catch(() => {});
  }
}

try {
  const teams = (await api('/api/datasources/uid/maturity/resources/teams')).body;
  const team = teams.find((t) => t.id === 'payments') ?? teams[0];
  assert.ok(team, 'the demo store has teams');

  await page.goto(base);
  await page.locator('#maturity-A-queryType').waitFor({ timeout: 20000 });

  await step('a team is picked from the real team list', async () => {
    await page.locator('#maturity-A-team').click();
    const option = page.getByRole('option', { name: new RegExp(team.name) }).first();
    await option.waitFor({ timeout: 10000 });
    await option.click();
    await page.keyboard.press('Escape');
  });

  for (const { queryType, hasTeam } of queryTypes) {
    await step(`query type ${queryType} runs and shows the backend's answer`, async () => {
      await pick('#maturity-A-queryType', humanize(queryType));
      await page.locator('[data-testid=query-json]').evaluate((el) => el.closest('details').setAttribute('open', ''));
      const query = JSON.parse(await page.locator('[data-testid=query-json]').innerText());
      assert.equal(query.queryType, queryType, 'the editor switched to the type');
      if (hasTeam) {
        assert.equal(query.team, team.id, 'the picked team is kept across types');
      }
      const answered = page.waitForResponse((r) => r.url().includes('/api/ds/query'));
      await page.locator('[data-testid=run-query]').click();
      const response = await answered;
      assert.equal(response.status(), 200, `the query answered ${response.status()}`);
      const answer = await response.json();
      await page.locator('[data-testid=results]').waitFor();
      assert.equal(await page.locator('[data-testid=query-error]').count(), 0, 'no error is shown');
      const shown = Number(await page.locator('[data-testid=row-count]').textContent());
      assert.equal(shown, rowsOf(answer, 'A'), 'the page shows every row the backend sent');
      // The editor's JSON, sent again by hand, is accepted and answers the same rows.
      const direct = await api('/api/ds/query', {
        method: 'POST',
        body: JSON.stringify({ from: 'now-90d', to: 'now', queries: [{ ...query, refId: 'A' }] }),
      });
      assert.equal(direct.status, 200, `the editor's JSON is accepted: ${JSON.stringify(direct.body).slice(0, 300)}`);
      await shot(`query-${queryType}`);
    });
  }

  await step('a passive view of the harness dashboard was recorded by the panel queries', async () => {
    await page.waitForTimeout(800);
    const views = await api(
      '/api/datasources/uid/maturity/resources/events?kind=view&dashboardUid=checkout-slo&limit=50'
    );
    assert.equal(views.status, 200);
    const recent = views.body.filter(
      (e) => e.user === 'alice' && e.source === 'passive' && Date.now() - e.time < 10 * 60000
    );
    assert.ok(recent.length >= 1, `a passive view by alice: ${JSON.stringify(views.body.slice(0, 2))}`);
  });

  await step('an incomplete query is not sent', async () => {
    await pick('#maturity-A-queryType', 'Target series');
    await page.locator('#maturity-A-team').click();
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Escape');
    let sent = false;
    const listener = (r) => r.url().includes('/api/ds/query') && (sent = true);
    page.on('request', listener);
    await page.locator('[data-testid=run-query]').click();
    await page.waitForTimeout(800);
    page.off('request', listener);
    assert.equal(sent, false, 'a target series without target or team stays in the editor');
    await shot('query-targetSeries-incomplete');
  });

  await step('the annotation layer runs an events query', async () => {
    await page.getByRole('tab', { name: 'Annotations' }).click();
    const answered = page.waitForResponse((r) => r.url().includes('/api/ds/query'));
    await page.locator('[data-testid=run-annotations]').click();
    const answer = await (await answered).json();
    assert.ok(rowsOf(answer, 'Anno') > 0, 'the demo has evidence in the range');
    await page.locator('[data-testid=results]').waitFor();
    await shot('annotations-editor');
  });

  await step('the variable editor previews the teams', async () => {
    await page.getByRole('tab', { name: 'Variables' }).click();
    await page.locator('[data-testid=run-variable]').click();
    await page.locator('[data-testid=variable-values] li').first().waitFor();
    assert.equal(await page.locator('[data-testid=variable-values] li').count(), teams.length);
    await shot('variables-editor');
  });

  await step('the settings page validates thresholds and keeps secrets out of jsonData', async () => {
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.locator('#config-reviewRatio').fill('1.5');
    await page.locator('#config-reviewRatio').blur();
    await page.getByText('is 1.5; it must be between 0 and 1').first().waitFor();
    await page.locator('#config-reviewRatio').fill('');
    await page.locator('#config-reviewRatio').blur();
    await page.getByRole('button', { name: 'Reset' }).first().click();
    await page.locator('#config-serviceAccountToken').fill('glsa_secret_token');
    await page.locator('#config-serviceAccountToken').blur();
    const stored = JSON.parse(await page.locator('[data-testid=settings-json]').innerText());
    assert.equal(stored.secureJsonData.serviceAccountToken, 'glsa_secret_token');
    assert.ok(!JSON.stringify(stored.jsonData).includes('glsa_secret_token'), 'the token is not in jsonData');
    await page.locator('[data-testid=save-test]').click();
    await page.locator('[data-testid=health]').waitFor();
    await page.locator('#config-reviewRatio').fill('1.5');
    await page.locator('#config-reviewRatio').blur();
    await shot('settings-editor');
  });

  await step('the settings page for PostgreSQL asks for the URL as a secret', async () => {
    await page.goto(`${base}/?tab=settings`);
    await page.getByRole('radio', { name: 'PostgreSQL' }).check({ force: true });
    await page
      .locator('#config-postgresUrl')
      .fill('postgres://maturity:s3cret@db:5432/grafana_evidence?sslmode=require');
    await page.locator('#config-postgresUrl').blur();
    const stored = JSON.parse(await page.locator('[data-testid=settings-json]').innerText());
    assert.equal(stored.jsonData.storage, 'postgres');
    assert.ok(!JSON.stringify(stored.jsonData).includes('s3cret'), 'the URL is not in jsonData');
    assert.ok(String(stored.secureJsonData.postgresUrl).includes('s3cret'));
    await page.getByText('schema, maturity').first().waitFor();
    await shot('settings-postgres');
    await page.getByRole('radio', { name: 'SQLite file' }).check({ force: true });
  });

  await step('the light theme renders the criteria', async () => {
    await page.goto(`${base}/?theme=light`);
    await pick('#maturity-A-queryType', 'Criteria');
    await page.locator('[data-testid=run-query]').click();
    await page.locator('[data-testid=results]').waitFor();
    await shot('query-criteria-light');
  });

  await step('the maturity panel shows the ladder from real frames, large and small, in both themes', async () => {
    await page.goto(`${base}/?tab=panel&team=payments`);
    await page.getByRole('region', { name: 'Maturity ladder of payments' }).waitFor();
    const level = (await api('/api/datasources/uid/maturity/resources/maturity?team=payments')).body[0].level;
    await page.getByLabel(`Level ${level} of 7`).waitFor();
    await shot('panel-ladder');
    await page.getByRole('radio', { name: 'Small' }).click();
    await page.getByRole('note', { name: 'What blocks the next level' }).waitFor();
    await shot('panel-ladder-small');
    await page.goto(`${base}/?tab=panel&team=payments&theme=light`);
    await page.getByRole('region', { name: 'Maturity ladder of payments' }).waitFor();
    await shot('panel-ladder-light');
    await page.goto(`${base}/?tab=panel&team=$__all`);
    await page.getByRole('list', { name: 'Teams by maturity level' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /open the ladder/ }).count(), teams.length);
    await shot('panel-grid');
  });

  await step('Mark reviewed and Record decision post, and the events query then shows them', async () => {
    await page.goto(`${base}/?tab=panel&team=growth`);
    await page.getByRole('region', { name: 'Maturity ladder of growth' }).waitFor();
    const reviewsRung = page.getByRole('listitem', { name: /^Level 4, Regular reviews/ });
    const before = await reviewsRung.innerText();
    const note = `Browser test review ${Date.now()}`;
    await page.getByRole('button', { name: 'Mark reviewed' }).click();
    await page.locator('#action-review-note').fill(note);
    await page.getByRole('dialog').getByRole('button', { name: 'Mark reviewed' }).click();
    await page.getByText('Review recorded').waitFor();
    await page.getByText(note).first().waitFor();
    // The review falls in a period that had none: the regular-reviews criterion moves.
    await page.waitForFunction(
      (text) => ![...document.querySelectorAll('li')].some((li) => li.innerText === text),
      before,
      { timeout: 10000 }
    );
    assert.notEqual(await reviewsRung.innerText(), before, 'the ladder shows the new review');
    const decision = `Browser test decision ${Date.now()}`;
    await page.getByRole('button', { name: 'Record decision' }).click();
    await page.locator('#action-decision-text').fill(decision);
    await page.locator('#action-decision-owner').fill('alice');
    await shot('panel-record-decision');
    await page.getByRole('dialog').getByRole('button', { name: 'Record decision' }).click();
    await page.getByText('Decision recorded').waitFor();
    await page.getByText(decision).first().waitFor();
    const stored = (await api('/api/datasources/uid/maturity/resources/events?team=growth&kind=decision&limit=1'))
      .body[0];
    assert.equal(stored.text, decision);
    assert.equal(stored.data.owner, 'alice');
    await shot('panel-after-actions');
  });

  await step('a viewer may record the review when the datasource lets viewers annotate (the default)', async () => {
    await page.goto(`${base}/?tab=panel&team=growth`);
    await page.getByRole('radio', { name: 'Viewer' }).click();
    await page.getByRole('region', { name: 'Maturity ladder of growth' }).waitFor();
    assert.equal(
      await page.getByRole('button', { name: 'Mark reviewed' }).count(),
      1,
      'viewers may annotate by default'
    );
  });

  for (const file of readdirSync(path.join(repo, 'dashboards'))
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    await step(`dashboard ${file} renders every panel from real answers`, async () => {
      // The example and the weekly review are one team's dashboards; the others show every team.
      const team = ['service-levels-example.json', 'weekly-review.json'].includes(file) ? 'payments' : '$__all';
      await page.goto(`${base}/?dashboard=${file}&team=${team}`);
      await page.locator('[data-testid=dashboard]').waitFor();
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('[data-testid=dashboard-panel]')].every(
            (p) => p.getAttribute('data-state') !== 'Loading'
          ),
        null,
        { timeout: 20000 }
      );
      const states = await page
        .locator('[data-testid=dashboard-panel]')
        .evaluateAll((ps) => ps.map((p) => p.getAttribute('data-state')));
      assert.ok(states.length > 0, 'the dashboard has panels');
      assert.deepEqual(
        states.filter((st) => st !== 'Done'),
        [],
        'every panel answered without error'
      );
      await page.waitForTimeout(500);
      await shot(`dashboard-${file.replace('.json', '')}`);
    });
  }

  await step('the page raised no JavaScript error', async () => {
    assert.deepEqual(pageErrors, []);
  });
} finally {
  await browser.close();
  front.kill('SIGTERM');
  await new Promise((r) => front.once('exit', r));
  rmSync(work, { recursive: true, force: true });
}

console.log(
  failed ? `browser test: ${failed} step(s) failed` : `browser test: every step passed; screenshots in ${shots}`
);
process.exit(failed ? 1 : 0);
