import { runTsChild, siblingModule } from '../util/ts-child.ts';
import { type LanguageModel, requireDecoding, requireScoring } from '../lm/language-model.ts';
import { argmax } from '../lm/sampling.ts';
import type { BatcherStats } from './continuous-batcher.ts';
import { startGateway } from './http-server.ts';
import { serveModel } from './served-model.ts';
import { median, medianMs, type Figure } from '../util/bench-figure.ts';

export type BenchFigure = Figure;

export interface GatewayBenchOptions {
  /** concurrent clients of the batched run (default 8) */
  clients?: number;
  /** requests each client sends in turn (default 6) */
  requestsPerClient?: number;
  /** mean tokens per request (default 64; each request asks for ½× to 1½× of it) */
  maxTokens?: number;
  prompt?: string;
  /** requests timed for the overhead figure (default 40) */
  overheadRequests?: number;
  /** interleaved pairs of runs (1 client, then `clients`) whose speedups are reported (default 5) */
  runs?: number;
}

export interface GatewayBenchResult {
  singleClientTokensPerSecond: number;
  concurrentTokensPerSecond: number;
  concurrentClients: number;
  /** concurrent ÷ single: how much continuous batching buys (the median over the runs) */
  speedup: number;
  /** each run's speedup, in order */
  speedups: number[];
  /** one decode step of 1 row and of `clients` rows through a decode state (best of several), ms */
  stepMs: { one: number; batch: number };
  /** median over interleaved pairs of (HTTP round trip of a small scoring request − the same work in-process) */
  gatewayOverheadMs: number;
  httpLatencyMs: number;
  inProcessMs: number;
  /** median round trip of GET /v1/models (no model work at all) */
  emptyRequestMs: number;
  batcher: BatcherStats;
}

/** The figure shape `alignkit bench` prints. */

/**
 * Throughput of a model with full distributions behind the gateway on loopback: aggregate
 * completion tokens/s of `clients` concurrent clients vs one client (continuous batching),
 * and the gateway's per-request overhead. Returns numbers; prints nothing.
 */
export async function benchGateway(
  model: LanguageModel,
  options: GatewayBenchOptions = {},
): Promise<GatewayBenchResult> {
  const clients = options.clients ?? 8;
  const perClient = options.requestsPerClient ?? 6;
  const maxTokens = options.maxTokens ?? 64;
  const prompt = options.prompt ?? 'Once upon a time';
  const served = serveModel('bench', model);
  const gateway = await startGateway({ models: [served], port: 0 });
  const post = async (path: string, body: unknown) => {
    const r = await fetch(gateway.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await r.json()) as any;
    if (!r.ok) throw new Error(`bench request failed: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  // the clients run in another process, as real clients would (see bench-clients.ts)
  const run = async (concurrency: number) =>
    (
      await runTsChild<{ tokensPerSecond: number }>(
        siblingModule('bench-clients', import.meta.url),
        [gateway.url, String(concurrency), String(perClient), String(maxTokens), prompt],
        'gateway bench clients',
      )
    ).tokensPerSecond;
  try {
    await run(1); // warm-up: sessions, JIT
    // interleaved pairs, so that machine noise hits both sides alike; figures are the medians
    const singles: number[] = [],
      concurrents: number[] = [],
      speedups: number[] = [];
    for (let i = 0; i < (options.runs ?? 5); i++) {
      singles.push(await run(1));
      concurrents.push(await run(clients));
      speedups.push(concurrents[i] / singles[i]);
    }
    const stepMs = { one: await decodeStepMs(model, 1), batch: await decodeStepMs(model, clients) };
    const ids = model.tokenizer.encode(prompt);
    const scoring = { model: 'bench', prompt: ids, max_tokens: 0, echo: true, logprobs: 0 };
    const overheadRequests = options.overheadRequests ?? 100;
    const score = requireScoring(model, 'the gateway overhead figure');
    const inProcess = () => score([{ prefix: ids.slice(0, 1), continuation: ids.slice(1) }]);
    await post('/v1/completions', scoring);
    // interleaved, so that machine noise hits both sides alike
    const http: number[] = [],
      local: number[] = [],
      overhead: number[] = [];
    for (let i = 0; i < overheadRequests; i++) {
      const h = await medianMs(() => post('/v1/completions', scoring), 1, false);
      const l = await medianMs(inProcess, 1, false);
      http.push(h);
      local.push(l);
      overhead.push(h - l);
    }
    const emptyRequestMs = await medianMs(
      () => fetch(`${gateway.url}/v1/models`).then((r) => r.json()),
      overheadRequests,
      false,
    );
    const [httpLatencyMs, inProcessMs, gatewayOverheadMs] = [median(http), median(local), median(overhead)];
    return {
      singleClientTokensPerSecond: median(singles),
      concurrentTokensPerSecond: median(concurrents),
      concurrentClients: clients,
      speedup: median(speedups),
      speedups,
      stepMs,
      gatewayOverheadMs,
      httpLatencyMs,
      inProcessMs,
      emptyRequestMs,
      batcher: { ...served.batcher!.stats },
    };
  } finally {
    await gateway.shutdown(1000);
  }
}

/**
 * One decode step of `rows` rows at 64-128 cached tokens, through a decode state as the batcher
 * steps it (best of 10 runs of 64 steps): what a batch costs against a single row.
 */
async function decodeStepMs(model: LanguageModel, rows: number): Promise<number> {
  const open = requireDecoding(model, 'the gateway bench');
  let best = Infinity;
  for (let run = 0; run < 10; run++) {
    const state = await open(Array.from({ length: rows }, (_, r) => [model.tokenizer.bosId ?? 0, r + 1]));
    const step = async () => {
      const lp = await state.nextLogprobs();
      await state.append(Array.from({ length: rows }, (_, r) => [argmax(lp.data, r * lp.vocab, lp.vocab)]));
    };
    for (let i = 0; i < 64; i++) await step();
    const started = performance.now();
    for (let i = 0; i < 64; i++) await step();
    best = Math.min(best, (performance.now() - started) / 64);
    state.close();
  }
  return best;
}

/** The bench result as figures, with the targets (≥ 3× speedup, < 2 ms overhead). */
export function gatewayBenchFigures(r: GatewayBenchResult, modelName: string): BenchFigure[] {
  const figures: BenchFigure[] = [
    { name: 'gateway: 1 client, completion tokens/s', value: r.singleClientTokensPerSecond, unit: 'tokens/s' },
    {
      name: `gateway: ${r.concurrentClients} concurrent clients, aggregate tokens/s`,
      value: r.concurrentTokensPerSecond,
      unit: 'tokens/s',
      reference: {
        name: '1 client',
        value: r.singleClientTokensPerSecond,
        ratio: r.concurrentTokensPerSecond / r.singleClientTokensPerSecond,
      },
    },
    {
      name: `gateway: batching speedup, median of ${r.speedups.length} (${r.speedups.map((x) => x.toFixed(2)).join(', ')})`,
      value: r.speedup,
      unit: '×',
      target: '≥ 3×',
    },
    { name: 'gateway: decode step, 1 row', value: r.stepMs.one * 1000, unit: 'µs' },
    {
      name: `gateway: decode step, ${r.concurrentClients} rows`,
      value: r.stepMs.batch * 1000,
      unit: 'µs',
      reference: {
        name: `${r.concurrentClients} one-row steps`,
        value: Math.round(r.concurrentClients * r.stepMs.one * 1000),
        ratio: (r.concurrentClients * r.stepMs.one) / r.stepMs.batch,
      },
    },
    {
      name: 'gateway: per-request overhead on loopback',
      value: r.gatewayOverheadMs,
      unit: 'ms',
      target: '< 2 ms',
    },
    { name: 'gateway: GET /v1/models round trip', value: r.emptyRequestMs, unit: 'ms' },
  ];
  return figures.map((f) => ({ ...f, name: f.name.replace('gateway:', `gateway (${modelName}):`) }));
}
