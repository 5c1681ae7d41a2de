import { AttributeRegistry } from './attribute.ts';
import { reasoningSteps, responseLength } from './structural-attributes.ts';
import { characterChoice, multipleChoiceAnswer } from './content-attributes.ts';
import { answerConfidence, factualConsistency } from './behavioural-attributes.ts';

/** A registry with the built-in attributes: length, steps, character, choice, confidence, consistency. */
export function builtinAttributes(): AttributeRegistry {
  return new AttributeRegistry()
    .register(responseLength)
    .register(reasoningSteps)
    .register(characterChoice)
    .register(multipleChoiceAnswer)
    .register(answerConfidence)
    .register(factualConsistency);
}
