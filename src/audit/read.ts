/**
 * Streaming line reader for audit files (verify and stats), O(1) memory in the file size.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

export interface FileLine {
  /** 1-based line number. */
  line: number;
  text: string;
  /** False for a last line without a trailing newline (a torn or truncated write). */
  terminated: boolean;
}

export async function* readLines(file: string): AsyncGenerator<FileLine> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  let rest = '';
  let line = 0;
  for await (const chunk of stream as AsyncIterable<string>) {
    let start = 0;
    let nl = chunk.indexOf('\n', start);
    if (nl === -1) {
      rest += chunk;
      continue;
    }
    let text = rest + chunk.slice(0, nl);
    rest = '';
    for (;;) {
      line += 1;
      yield { line, text, terminated: true };
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
      if (nl === -1) break;
      text = chunk.slice(start, nl);
    }
    rest = chunk.slice(start);
  }
  if (rest.length > 0) yield { line: line + 1, text: rest, terminated: false };
}

/** The first line of a file (up to 64 KiB), or null. */
export async function readFirstLine(file: string): Promise<string | null> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead === 0) return null;
    const nl = buf.subarray(0, bytesRead).indexOf(10);
    return buf.subarray(0, nl === -1 ? bytesRead : nl).toString('utf8');
  } finally {
    await fh.close();
  }
}
