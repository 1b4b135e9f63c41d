/**
 * Lines of a byte stream, split on `\n` (a trailing `\r` is dropped), decoded as UTF-8. A line longer than
 * keepBytes is cut to its first keepBytes bytes and flagged, so one runaway line cannot take the memory.
 */
export interface Line {
  readonly text: string;
  /** Size of the whole line in bytes, even when text holds only its beginning. */
  readonly sizeBytes: number;
  readonly truncated: boolean;
  /** 1-based. */
  readonly lineNo: number;
}

const LF = 0x0a;
const CR = 0x0d;

export async function* splitLines(chunks: AsyncIterable<Uint8Array>, keepBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let keptBytes = 0;
  let sizeBytes = 0;
  let lineNo = 0;

  const take = (piece: Buffer): void => {
    sizeBytes += piece.length;
    if (keptBytes >= keepBytes) return;
    const kept = piece.length <= keepBytes - keptBytes ? piece : piece.subarray(0, keepBytes - keptBytes);
    parts.push(kept);
    keptBytes += kept.length;
  };
  const finish = (): Line => {
    const whole = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    const truncated = sizeBytes > keptBytes;
    const end = !truncated && whole.length > 0 && whole[whole.length - 1] === CR ? whole.length - 1 : whole.length;
    const line: Line = { text: whole.toString('utf8', 0, end), sizeBytes: truncated ? sizeBytes : end, truncated, lineNo: ++lineNo };
    parts = [];
    keptBytes = 0;
    sizeBytes = 0;
    return line;
  };

  for await (const chunk of chunks) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let nl = buf.indexOf(LF, start); nl !== -1; nl = buf.indexOf(LF, start)) {
      take(buf.subarray(start, nl));
      yield finish();
      start = nl + 1;
    }
    if (start < buf.length) take(buf.subarray(start));
  }
  if (sizeBytes > 0) yield finish();
}

/**
 * Fields of one CSV line (RFC 4180 quoting: `"a,b"` and `""` inside quotes). Quoted fields spanning lines are
 * not supported: price files have none, and a broken quote then only spoils its own line.
 */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  fields.push(field);
  return fields;
}
