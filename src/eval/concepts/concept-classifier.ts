/**
 * The concept classifier: TF-IDF (word 1–2-grams + character 3–5-grams) and multinomial
 * logistic regression, trained on a benchmark's own labelled questions. Used to find problems of
 * a concept in a user's pools and to check generated problems.
 */
import { readFileSync } from 'node:fs';
import { formatError, inputError } from '../../errors.ts';
import { writeJsonAtomic } from '../../util/atomic-write.ts';
import { fitSparseSoftmax, predictSparseSoftmax, type SparseSoftmaxModel } from './sparse-softmax.ts';
import { stratifiedSplit } from './stratified-split.ts';
import { defaultTfidfSettings, TfidfVectorizer, type TfidfSettings, type TfidfState } from './tfidf.ts';

export interface LabelledText {
  text: string;
  label: string;
}

export interface ClassifierSettings extends TfidfSettings {
  /**
   * inverse regularization strength, as sklearn's C: the objective is
   * C·Σ cross-entropy + ½‖W‖², i.e. l2 = 1/(C·n) on the mean loss
   */
  c: number;
  maxIterations: number;
}

export const defaultClassifierSettings: ClassifierSettings = {
  ...defaultTfidfSettings,
  minDf: 2,
  c: 30,
  maxIterations: 100,
};

export interface ConceptPrediction {
  label: string;
  probability: number;
  /** the most probable labels, best first */
  top: { label: string; probability: number }[];
}

/** The file a trained classifier is saved to (weights as base64 float32). */
interface ClassifierFile {
  kind: 'alignkit concept classifier';
  labels: string[];
  settings: ClassifierSettings;
  vectorizer: TfidfState;
  weights: string;
  bias: number[];
}

export class ConceptClassifier {
  private constructor(
    readonly labels: readonly string[],
    readonly settings: ClassifierSettings,
    private readonly vectorizer: TfidfVectorizer,
    private readonly model: SparseSoftmaxModel,
  ) {}

  static train(examples: readonly LabelledText[], settings: Partial<ClassifierSettings> = {}): ConceptClassifier {
    const s = { ...defaultClassifierSettings, ...settings };
    const labels = [...new Set(examples.map((e) => e.label))].sort();
    if (labels.length < 2)
      throw inputError(
        `a concept classifier needs at least two concepts with labelled questions, got ${labels.length}`,
      );
    const labelIndex = new Map(labels.map((l, i) => [l, i]));
    const vectorizer = TfidfVectorizer.fit(
      examples.map((e) => e.text),
      s,
    );
    const rows = examples.map((e) => vectorizer.transform(e.text));
    const model = fitSparseSoftmax(
      rows,
      examples.map((e) => labelIndex.get(e.label)!),
      vectorizer.size,
      labels.length,
      { l2: 1 / (s.c * examples.length), maxIterations: s.maxIterations },
    );
    return new ConceptClassifier(labels, s, vectorizer, model);
  }

  probabilities(text: string): Float64Array {
    return predictSparseSoftmax(this.model, this.vectorizer.transform(text));
  }

  predict(text: string, topK = 3): ConceptPrediction {
    const p = this.probabilities(text);
    const order = [...p.keys()].sort((a, b) => p[b] - p[a] || a - b);
    const top = order.slice(0, topK).map((i) => ({ label: this.labels[i], probability: p[i] }));
    return { label: top[0].label, probability: top[0].probability, top };
  }

  save(path: string): void {
    const file: ClassifierFile = {
      kind: 'alignkit concept classifier',
      labels: [...this.labels],
      settings: this.settings,
      vectorizer: this.vectorizer.toState(),
      weights: Buffer.from(Float32Array.from(this.model.weights).buffer).toString('base64'),
      bias: [...this.model.bias],
    };
    writeJsonAtomic(path, file);
  }

  static load(path: string): ConceptClassifier {
    let file: ClassifierFile;
    try {
      file = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw inputError(`cannot read the classifier (${(e as Error).message})`, { file: path });
    }
    if (file?.kind !== 'alignkit concept classifier')
      throw formatError('not an alignkit concept classifier file (expected "kind": "alignkit concept classifier")', {
        file: path,
        field: 'kind',
      });
    const vectorizer = TfidfVectorizer.fromState(file.vectorizer, path);
    const raw = Buffer.from(file.weights ?? '', 'base64');
    const weights = Float64Array.from(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4));
    const classes = file.labels?.length ?? 0;
    if (weights.length !== vectorizer.size * classes || file.bias?.length !== classes) {
      throw formatError(`weights do not match ${vectorizer.size} features × ${classes} labels`, {
        file: path,
        field: 'weights',
      });
    }
    return new ConceptClassifier(file.labels, file.settings, vectorizer, {
      features: vectorizer.size,
      classes,
      weights,
      bias: Float64Array.from(file.bias),
    });
  }
}

export interface HeldOutScore {
  trainSize: number;
  testSize: number;
  labels: number;
  /** accuracy of the classifier on the held-out texts */
  accuracy: number;
  /** accuracy of always answering the most frequent training label */
  majorityAccuracy: number;
  majorityLabel: string;
}

/**
 * Trains on a stratified part of the labelled texts and scores the rest, beside the
 * majority-class baseline: the check that the classifier has learned the concepts.
 */
export function heldOutScore(
  examples: readonly LabelledText[],
  options: { testFraction?: number; seed?: number; settings?: Partial<ClassifierSettings> } = {},
): HeldOutScore {
  const { first: test, second: train } = stratifiedSplit(
    examples,
    (e) => e.label,
    options.testFraction ?? 0.3,
    options.seed ?? 0,
  );
  if (!test.length) throw inputError('too few labelled questions to hold any out (each concept needs at least two)');
  const classifier = ConceptClassifier.train(train, options.settings);
  const counts = new Map<string, number>();
  for (const e of train) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
  const majorityLabel = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
  const right = test.filter((e) => classifier.predict(e.text, 1).label === e.label).length;
  return {
    trainSize: train.length,
    testSize: test.length,
    labels: classifier.labels.length,
    accuracy: right / test.length,
    majorityAccuracy: test.filter((e) => e.label === majorityLabel).length / test.length,
    majorityLabel,
  };
}
