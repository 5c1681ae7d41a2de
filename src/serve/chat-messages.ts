import type { ChatMessage } from '../tokenizers/tokenizer.ts';
import { badRequest } from './errors.ts';
import { refusedField } from './field-policy.ts';

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * One message's content as text. The specification's content is a string or a non-empty list of
 * parts; of these only text (and, in an assistant's message, a refusal) can reach a text model.
 */
function contentText(content: unknown, role: string, at: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content) || content.length === 0)
    throw badRequest(`${at}.content must be a string or a non-empty list of content parts`, `${at}.content`);
  return content
    .map((part, j) => {
      const where = `${at}.content[${j}]`;
      if (!isObject(part) || typeof part.type !== 'string')
        throw badRequest(`${where} must be an object with a string "type"`, `${at}.content`);
      if (part.type === 'text' && typeof part.text === 'string') return part.text;
      if (part.type === 'refusal' && role === 'assistant' && typeof part.refusal === 'string') return part.refusal;
      if (part.type === 'text' || part.type === 'refusal')
        throw badRequest(`${where} needs a string "${part.type}"`, `${at}.content`);
      throw refusedField(`${at}.content`, `only text content reaches the model (${where} is "${part.type}")`);
    })
    .join('');
}

/**
 * `messages` as the chat template sees them, checked as the specification describes each role.
 * A developer message is the newer name of a system message; tool and function messages and an
 * assistant's tool calls are refused (there is no tool calling).
 */
export function readMessages(raw: unknown, param = 'messages'): ChatMessage[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw badRequest(`"${param}" must be a non-empty list of {role, content}`, param);
  return raw.map((m, i) => {
    const at = `${param}[${i}]`;
    if (!isObject(m) || typeof m.role !== 'string')
      throw badRequest(`${at} must be an object with a string "role"`, at);
    const role = m.role;
    if (!(ROLES as readonly string[]).includes(role))
      throw badRequest(`${at}.role must be one of ${ROLES.join(', ')}, got "${role}"`, `${at}.role`);
    if (m.name !== undefined && typeof m.name !== 'string') throw badRequest(`${at}.name must be a string`, at);
    if (role === 'tool' || role === 'function')
      throw refusedField(`${at}.role`, `this server has no tool calling, so there are no ${role} results to send`);
    if (role === 'assistant') {
      if (m.tool_calls != null || m.function_call != null)
        throw refusedField(`${at}.tool_calls`, 'this server has no tool calling');
      if (m.audio != null) throw refusedField(`${at}.audio`, 'there is no audio');
      if (m.refusal != null && typeof m.refusal !== 'string')
        throw badRequest(`${at}.refusal must be a string or null`, at);
      const text = m.content == null ? '' : contentText(m.content, role, at);
      return { role, content: text || ((m.refusal as string | null | undefined) ?? '') };
    }
    if (m.content === undefined || m.content === null) throw badRequest(`${at}.content is required`, `${at}.content`);
    return { role: role === 'developer' ? 'system' : role, content: contentText(m.content, role, at) };
  });
}
