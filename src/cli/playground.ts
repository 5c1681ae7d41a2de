/** `alignkit playground`: the steering methods in a web page, served on loopback or written as static files. */
import { fileURLToPath } from 'node:url';
import { command } from './command-spec.ts';

const EMBEDDED = fileURLToPath(new URL('../../embedded', import.meta.url));

export const playgroundCommand = command({
  name: 'playground',
  summary: 'the steering methods in a web page (onnxruntime-web)',
  description:
    "Builds the playground — a static page that runs sampling, Best-of-N, EFT, weak-to-strong search, IVG and emulated disalignment side by side in the browser tab on onnxruntime-web, with the embedded models (and the main job's tuned and value models once `npm start` has cached them) — and serves it on loopback, or writes it to --out for any static web host. A user can load their own small model (an HF directory or a GGUF file) from disk in the page; nothing is uploaded.",
  examples: ['playground', 'playground --port 8080', 'playground --out site/ --model tuned=runs/my-dpo/model'],
  options: {
    out: {
      type: 'string',
      placeholder: 'DIR',
      description: 'write the static files to DIR and exit instead of serving',
    },
    port: { type: 'integer', min: 0, max: 65535, default: 8765, description: 'port on 127.0.0.1 (0 = any free one)' },
    model: {
      type: 'string',
      repeatable: true,
      placeholder: 'NAME=DIR',
      description:
        'another HF model directory to ship; a NAME that is a role (large, tuned, untuned, base, aligned, value) starts in that role',
    },
    embedded: {
      type: 'string',
      placeholder: 'DIR',
      description: "the embedded models folder (default: alignkit's embedded/)",
    },
  },
  async run(values) {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { defaultCacheDir } = await import('../util/cache-dir.ts');
    const { playgroundContents } = await import('../playground/playground-models.ts');
    const { buildPlayground } = await import('../playground/build-playground.ts');
    const { servePlayground } = await import('../playground/serve-playground.ts');
    const contents = playgroundContents({
      embeddedDir: values.embedded ?? EMBEDDED,
      mainJobCacheDir: defaultCacheDir('demo'),
      extra: values.model,
    });
    for (const note of contents.notes) console.log(`note: ${note}`);
    const shipped = contents.models.map((m) => m.name).join(', ');
    if (values.out !== undefined) {
      const built = await buildPlayground(values.out, contents);
      console.log(
        `alignkit playground: wrote ${built.files} files (${(built.bytes / 1e6).toFixed(1)} MB; models: ${shipped}) to ${built.dir}`,
      );
      return 0;
    }
    const dir = mkdtempSync(join(tmpdir(), 'alignkit-playground-'));
    try {
      await buildPlayground(join(dir, 'site'), contents);
      const served = await servePlayground(join(dir, 'site'), values.port);
      console.log(`alignkit playground: open ${served.url} (models: ${shipped}); Ctrl-C stops`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await served.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    console.log('alignkit playground: stopped');
    return 0;
  },
});
