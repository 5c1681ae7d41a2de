import { parseFlags, requireFlag } from './args.ts';
import { loadModel } from '../lm/load.ts';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' },
    tokenizer: { type: 'string' },
    prompt: { type: 'string' },
    continuation: { type: 'string' },
    json: { type: 'boolean' },
    'api-key-env': { type: 'string' },
  });
  const prompt = requireFlag(values, 'prompt');
  const continuation = requireFlag(values, 'continuation');
  const model = await loadModel(requireFlag(values, 'model'), {
    tokenizer: values.tokenizer,
    apiKeyEnv: values['api-key-env'],
  });
  try {
    const [r] = await model.score([{ prefix: prompt, continuation }]);
    if (values.json) console.log(JSON.stringify({ tokens: r.tokens, logprobs: r.logprobs, total: r.total }));
    else {
      for (let i = 0; i < r.tokens.length; i++)
        console.log(
          `${String(r.tokens[i]).padStart(7)}  ${r.logprobs[i].toFixed(4).padStart(9)}  ${JSON.stringify(model.tokenizer.decode([r.tokens[i]]))}`,
        );
      console.log(`total ${r.total.toFixed(4)} over ${r.tokens.length} tokens`);
    }
  } finally {
    await model.dispose();
  }
  return 0;
}
