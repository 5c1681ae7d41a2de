import { parseFlags, requireFlag, numberFlag, intFlag } from './args.ts';
import { loadModel } from '../lm/load.ts';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' },
    tokenizer: { type: 'string' },
    prompt: { type: 'string' },
    'max-new-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-p': { type: 'string' },
    'top-k': { type: 'string' },
    seed: { type: 'string' },
    n: { type: 'string' },
    stop: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    'api-key-env': { type: 'string' },
  });
  const model = await loadModel(requireFlag(values, 'model'), {
    tokenizer: values.tokenizer,
    apiKeyEnv: values['api-key-env'],
  });
  try {
    const prompt: string | number[] =
      values.prompt !== undefined ? values.prompt : model.tokenizer.bosId !== null ? [model.tokenizer.bosId] : '';
    const samples = await model.sample({
      prompt,
      n: intFlag(values, 'n', 1),
      maxNewTokens: intFlag(values, 'max-new-tokens', 256),
      temperature: numberFlag(values, 'temperature', 1),
      topP: numberFlag(values, 'top-p'),
      topK: intFlag(values, 'top-k'),
      seed: intFlag(values, 'seed'),
      stop: values.stop,
    });
    if (values.json) console.log(JSON.stringify(samples.length === 1 ? samples[0] : samples));
    else for (const s of samples) console.log((typeof prompt === 'string' ? prompt : '') + s.text);
  } finally {
    await model.dispose();
  }
  return 0;
}
