/**
 * The declarative command specification: every command's help, typed and validated values
 * (ranges, choices, negative numbers), --config files, --version, and the README's command
 * reference, all derived from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command, type AnyCommand, type Command } from '../src/cli/command-spec.ts';
import { commandTree, findCommand, main, run } from '../src/cli/main.ts';
import { parseCommandLine } from '../src/cli/parse-command-line.ts';
import { flagOf } from '../src/util/option-spec.ts';
import { readmeCommandReference, README_MARKERS } from '../scripts/readme-commands.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';

/** Runs `body` with console.log captured. */
async function captured(body: () => Promise<number>): Promise<{ code: number; out: string }> {
  const log = console.log;
  const lines: string[] = [];
  console.log = (...args: unknown[]) => lines.push(args.join(' '));
  try {
    return { code: await body(), out: lines.join('\n') };
  } finally {
    console.log = log;
  }
}

function commands(node: AnyCommand): Command[] {
  return node.kind === 'command' ? [node] : node.commands.flatMap(commands);
}

test('every command and group: --help and -h exit 0 and print every flag, its default and an example', async () => {
  const all = commands(await commandTree());
  assert.ok(all.length >= 30, `${all.length} commands`);
  for (const c of all) {
    const words = c.name.split(' ');
    for (const flag of ['--help', '-h']) {
      const { code, out: printed } = await captured(() => run([...words, flag]));
      const out = printed.replace(/\s+/g, ' ');
      assert.equal(code, 0, `${c.name} ${flag}`);
      assert.ok(out.startsWith(`usage: alignkit ${c.name}`), c.name);
      assert.ok(out.includes(`alignkit ${c.examples[0]}`), `${c.name}: example`);
      for (const [key, spec] of Object.entries(c.options)) {
        assert.ok(out.includes(`--${flagOf(key, spec)}`), `${c.name}: --${flagOf(key, spec)}`);
        if (spec.default !== undefined && !Array.isArray(spec.default) && spec.default !== false)
          assert.ok(
            out.includes(`default ${spec.default === Infinity ? 'inf' : spec.default}`),
            `${c.name} --${key} default`,
          );
      }
    }
  }
  for (const group of ['', 'train', 'steer', 'eval', 'probe', 'sweep', 'concepts']) {
    const { code, out } = await captured(() => run([...(group ? [group] : []), '--help']));
    assert.equal(code, 0, group);
    assert.match(out, /^usage: alignkit/);
  }
  // help wins over missing required flags
  assert.equal((await captured(() => run(['train', 'sft', '--out', 'x', '-h']))).code, 0);
});

test('alignkit --version prints the package version; unknown commands and flags are one line', () => {
  const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
  const r = spawnSync(process.execPath, [...ALIGNKIT, '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), version);
  const u = spawnSync(process.execPath, [...ALIGNKIT, 'frobnicate'], { encoding: 'utf8' });
  assert.equal(u.status, 2);
  assert.match(u.stderr.trim(), /^alignkit: unknown command "frobnicate" \(expected one of: generate, .*\)$/);
  const f = spawnSync(process.execPath, [...ALIGNKIT, 'generate', '--model', 'm', '--tmperature', '1'], {
    encoding: 'utf8',
  });
  assert.equal(f.status, 1);
  assert.equal(f.stderr.trim(), 'alignkit generate: unknown flag --tmperature (see alignkit generate --help)');
});

const probeLike = command({
  name: 'test',
  summary: 's',
  description: 'd',
  examples: ['test'],
  options: {
    promptWords: { type: 'integer', description: 'words' },
    topP: { type: 'number', min: 0, max: 1, exclusiveMin: true, default: 1, description: 'p' },
    count: { type: 'integer', min: 1, default: 2, description: 'n' },
    dtype: { type: 'string', choices: ['float32', 'float16'], default: 'float32', description: 't' },
    chunk: { type: 'integer', min: 1, infinity: true, description: 'l' },
    layers: { type: 'list', items: 'integer', min: 0, description: 'l' },
    stop: { type: 'string', repeatable: true, description: 's' },
    out: { type: 'string', required: true, description: 'o' },
    flagged: { type: 'boolean', description: 'b' },
  },
  run: async () => 0,
});

test('values are typed and validated: negative numbers, ranges, choices, infinity, lists, repeats, required', async () => {
  const parse = (...argv: string[]) => parseCommandLine(probeLike, ['--out', 'o', ...argv]).values;
  const v = parse(
    '--prompt-words',
    '-40',
    '--layers',
    '1,2',
    '--layers',
    '3',
    '--stop',
    'a,b',
    '--stop',
    'c',
    '--chunk',
    'inf',
  );
  assert.equal(v.promptWords, -40);
  assert.deepEqual(v.layers, [1, 2, 3]);
  assert.deepEqual(v.stop, ['a,b', 'c'], 'stop strings keep their commas');
  assert.equal(v.chunk, Infinity);
  assert.equal(v.topP, 1);
  assert.equal(v.count, 2);
  assert.equal(v.flagged, false);
  assert.equal(parse('--prompt-words=-3', '--flagged').promptWords, -3);
  assert.equal(parse('--flagged=true').flagged, true);
  const bad: [string[], RegExp][] = [
    [['--top-p', '0'], /--top-p expects a number in \(0, 1\], got "0"/],
    [['--top-p', '1.5'], /--top-p expects a number in \(0, 1\], got "1\.5"/],
    [['--count', '0'], /--count expects a positive integer, got "0"/],
    [['--count', '2.5'], /--count expects a positive integer, got "2\.5"/],
    [['--count', 'many'], /--count expects a positive integer, got "many"/],
    [['--dtype', 'int8'], /--dtype expects one of float32, float16, got "int8"/],
    [['--layers', '1,x'], /--layers expects a comma-separated list of integers ≥ 0, got "x"/],
    [['--layers', '-1'], /--layers expects a comma-separated list of integers ≥ 0, got -1/],
    [['--count'], /--count needs a value/],
    [['--count', '--flagged'], /--count needs a value/],
    [['--count', '3', '--count', '4'], /--count is given twice/],
    [['--nope'], /unknown flag --nope/],
    [['stray'], /unexpected argument "stray"/],
  ];
  for (const [argv, message] of bad) assert.throws(() => parse(...argv), message, argv.join(' '));
  assert.throws(() => parseCommandLine(probeLike, []), /missing required flag --out$/);

  // the real probe collect: the README's --prompt-words -40, and steer's --l inf
  const collect = (await findCommand(['probe', 'collect'])).target as Command;
  const argv = ['--model', 'm', '--data', 'd.txt', '--attributes', 'length', '--out', 'o', '--prompt-words', '-40'];
  assert.equal(parseCommandLine(collect, argv).values.promptWords, -40);
  const w2s = (await findCommand(['steer', 'w2s'])).target as Command;
  assert.equal(parseCommandLine(w2s, ['--prompts', 'p', '--out', 'o', '--l', 'inf']).values.chunkLength, Infinity);
  assert.throws(
    () => parseCommandLine(w2s, ['--prompts', 'p', '--out', 'o', '--top-p', '0']),
    /--top-p expects a number in \(0, 1\]/,
  );
});

test('--config: the same keys as the flags (camelCase or kebab-case), flags win, bad keys and values name the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const yaml = join(dir, 'run.yaml');
  writeFileSync(yaml, 'topP: 0.9\nprompt-words: -12\nlayers: [1, 2]\nstop: [x]\ncount: 5\n');
  const v = parseCommandLine(probeLike, ['--out', 'o', '--config', yaml, '--count', '7']).values;
  assert.equal(v.topP, 0.9);
  assert.equal(v.promptWords, -12);
  assert.deepEqual(v.layers, [1, 2]);
  assert.deepEqual(v.stop, ['x']);
  assert.equal(v.count, 7, 'the command line wins');
  const json = join(dir, 'bad.json');
  writeFileSync(json, JSON.stringify({ topP: 2 }));
  assert.throws(
    () => parseCommandLine(probeLike, ['--out', 'o', '--config', json]),
    (e: Error) => e.message.startsWith(`${json}, field "topP": --top-p expects a number in (0, 1], got 2`),
  );
  writeFileSync(json, JSON.stringify({ temprature: 1 }));
  assert.throws(
    () => parseCommandLine(probeLike, ['--out', 'o', '--config', json]),
    /bad\.json, field "temprature": unknown key/,
  );
  writeFileSync(json, '{"topP": ');
  assert.throws(
    () => parseCommandLine(probeLike, ['--out', 'o', '--config', json]),
    /bad\.json: cannot read the config file/,
  );
});

test('a real command reads --config: steer flags from a YAML file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'steer.yaml');
  writeFileSync(config, 'w: 0\n');
  const code = await captured(async () => {
    const error = console.error;
    const errors: string[] = [];
    console.error = (m: string) => errors.push(m);
    try {
      const exit = await main(['steer', 'w2s', '--config', config, '--prompts', 'p.jsonl', '--out', join(dir, 'o')]);
      assert.match(errors.join('\n'), /steer\.yaml, field "w": --w expects a positive integer, got 0/);
      return exit;
    } finally {
      console.error = error;
    }
  });
  assert.equal(code.code, 1);
});

test("the README's command reference is the one the specification generates (npm run readme:commands)", async () => {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf(README_MARKERS.start);
  const end = readme.indexOf(README_MARKERS.end);
  assert.ok(start >= 0 && end > start, 'the README has the command reference markers');
  const current = readme.slice(start + README_MARKERS.start.length, end).trim();
  assert.equal(
    current,
    (await readmeCommandReference()).trim(),
    'README.md is out of date: run `npm run readme:commands`',
  );
});

test('every alignkit command line in the README parses with the specification (flags, values, required ones)', async () => {
  const readme = readFileSync('README.md', 'utf8');
  const shell = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
  const lines = shell
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('alignkit ') && !l.includes('...'));
  assert.ok(lines.length > 40, `${lines.length} command lines`);
  for (const line of lines) {
    const words = [...line.replace(/\s#\s.*$/, '').matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map(
      (m) => m[1] ?? m[2] ?? m[3],
    );
    const { target, rest } = await findCommand(words.slice(1));
    assert.equal(target.kind, 'command', line);
    assert.doesNotThrow(() => parseCommandLine(target as Command, rest), line);
  }
});
