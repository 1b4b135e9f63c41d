/**
 * The elements of a top-level JSON array, as text, read from a byte stream without holding the whole body: a
 * price feed can be large, and each element's text is what goes to the DLQ when it is rejected.
 */
import { SourceError } from '../raw-row.ts';

export interface JsonElement {
  readonly text: string;
  /** Characters of the whole element, even when text holds only its beginning. */
  readonly sizeChars: number;
  readonly truncated: boolean;
  /** 1-based position in the array. */
  readonly index: number;
}

export async function* jsonArrayElements(chunks: AsyncIterable<Uint8Array>, keepChars: number, where: string): AsyncGenerator<JsonElement> {
  const decoder = new TextDecoder('utf-8');
  let started = false;
  let ended = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let pieces: string[] = [];
  let kept = 0;
  let size = 0;
  let index = 0;

  const take = (piece: string): void => {
    size += piece.length;
    if (kept >= keepChars) return;
    const k = piece.length <= keepChars - kept ? piece : piece.slice(0, keepChars - kept);
    pieces.push(k);
    kept += k.length;
  };
  const finish = (): JsonElement | undefined => {
    const text = pieces.join('').trim();
    const element = text === '' ? undefined : { text, sizeChars: size, truncated: size > kept, index: ++index };
    pieces = [];
    kept = 0;
    size = 0;
    return element;
  };

  for await (const chunk of chunks) {
    const s = decoder.decode(chunk, { stream: true });
    let from = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (!started) {
        if (c === 0x5b) {
          started = true;
          from = i + 1;
        } else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0xfeff) {
          throw new SourceError(`${where}: the JSON body is not an array (it starts with ${JSON.stringify(s.slice(i, i + 20))})`);
        }
        continue;
      }
      if (ended) {
        if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) throw new SourceError(`${where}: unexpected text after the JSON array`);
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) inString = false;
        continue;
      }
      if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if ((c === 0x7d || c === 0x5d) && depth > 0) depth--;
      else if (depth === 0 && (c === 0x2c || c === 0x5d)) {
        take(s.slice(from, i));
        from = i + 1;
        const element = finish();
        if (element) yield element;
        if (c === 0x5d) ended = true;
      }
    }
    if (started && !ended && from < s.length) take(s.slice(from));
  }
  if (!started) throw new SourceError(`${where}: empty body, expected a JSON array`);
  if (!ended) throw new SourceError(`${where}: the JSON array is not closed (body cut short?)`);
}
