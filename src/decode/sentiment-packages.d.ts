/** Types of the two lexicon packages the sentiment reward uses (neither ships its own). */
declare module 'vader-sentiment' {
  export const SentimentIntensityAnalyzer: { polarity_scores(text: string): { compound: number } };
}
declare module 'sentiment' {
  export default class Sentiment {
    analyze(text: string): { comparative: number };
  }
}
