/**
 * Child process of benchGateway (bench.ts): `concurrency` clients, each sending `perClient`
 * completion requests in turn to the gateway at `url`, timed after one warm-up request. Runs
 * apart from the server so the clients' own HTTP work does not eat the server's event loop, as
 * with real clients. Request lengths vary around `maxTokens` (½× to 1½×), so requests end and
 * others join while the batch runs. Every client asks for the same lengths, each from its own
 * place in the list: the clients' totals are equal, so the run measures the clients together
 * rather than a tail where the last client with the most tokens decodes alone (with lengths
 * drawn per request, that tail was a fifth of the steps at 8 clients). Sends the aggregate
 * completion tokens/s to the parent over IPC.
 */
const [url, concurrency, perClient, maxTokens, prompt] = process.argv.slice(2);

let seed = 0;
/** the length of a client's `i`-th request: ½× to 1½× `maxTokens`, spread by a fixed stride */
const lengthOf = (i: number) => Math.round(Number(maxTokens) * (0.5 + ((i * 37) % 101) / 100));
async function complete(maxTokens: number): Promise<number> {
  const r = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench', prompt, max_tokens: maxTokens, seed: seed++, temperature: 1 }),
  });
  const json = (await r.json()) as { usage?: { completion_tokens: number } };
  if (!r.ok || !json.usage) throw new Error(`bench request failed: ${r.status} ${JSON.stringify(json)}`);
  // min_tokens is not offered, so EOS may end a request early: count what was generated
  return json.usage.completion_tokens;
}

await complete(lengthOf(0));
const started = performance.now();
const counts = await Promise.all(
  Array.from({ length: Number(concurrency) }, async (_, client) => {
    let tokens = 0;
    for (let i = 0; i < Number(perClient); i++) tokens += await complete(lengthOf((client + i) % Number(perClient)));
    return tokens;
  }),
);
const seconds = (performance.now() - started) / 1000;
process.send!({ tokensPerSecond: counts.reduce((a, b) => a + b, 0) / seconds });
