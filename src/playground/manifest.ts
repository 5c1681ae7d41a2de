/** models.json of a built playground: the models it ships, which role each takes first, sample prompts. */
export interface PlaygroundManifest {
  models: { name: string; files: string[] }[];
  roles: Partial<Record<'large' | 'tuned' | 'untuned' | 'base' | 'aligned' | 'value', string>>;
  prompts: string[];
}
