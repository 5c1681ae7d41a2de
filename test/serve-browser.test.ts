/**
 * A browser application calling the gateway from another origin (issue 19, item 1): Debian's
 * chromium loads a page from one loopback port and fetches from the gateway on another, with a
 * bearer key and a JSON body (so the browser sends a CORS preflight first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { storiesGateway } from './helpers/serve-fixtures.ts';
import { CHROMIUM, browserSkip, requireChromium } from './helpers/browser.ts';

test(
  'a page on another origin can call an allowed gateway, and only an allowed one',
  { skip: browserSkip },
  async (t) => {
    requireChromium();
    const page = createServer((_, res) => res.end('<!doctype html><title>app</title>'));
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
    t.after(() => page.close());
    const { gateway: open } = await storiesGateway(t, { allowedOrigins: [origin], apiKey: 'k' });
    const { gateway: closed } = await storiesGateway(t, { apiKey: 'k' });

    const profile = mkdtempSync(join(tmpdir(), 'alignkit-cors-'));
    t.after(() => rmSync(profile, { recursive: true, force: true }));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    t.after(() => context.close());
    const tab = await context.newPage();
    await tab.goto(origin);
    const call = (base: string) =>
      tab.evaluate(async (url) => {
        try {
          const r = await fetch(`${url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: 'Bearer k', 'content-type': 'application/json', 'x-request-id': 'from-page' },
            body: JSON.stringify({ model: 'stories', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3 }),
          });
          return { status: r.status, object: (await r.json()).object, requestId: r.headers.get('x-request-id') };
        } catch (e) {
          return { error: String(e) };
        }
      }, base);
    assert.deepEqual(await call(open.url), { status: 200, object: 'chat.completion', requestId: 'from-page' });
    assert.match((await call(closed.url)).error ?? '', /Failed to fetch/);
  },
);
