/**
 * WireMeter: reads the framing of the PostgreSQL backend protocol as it arrives on a socket
 * (a type byte and an int32 length per message) without buffering message bodies, so a
 * message's size is known from its first five bytes, before pg buffers and decodes it.
 *
 * Guarantees: `onHeader(type, length)` is called once per message, in order, as soon as its
 * header has arrived; it costs O(chunk) per chunk and holds 5 bytes of state. Returning false
 * stops the meter (nothing more is reported). A length below 4 (not a protocol message) stops
 * it too: the meter never guesses at framing it cannot read.
 * Does not: parse message bodies, or know which statement of a pipeline a message belongs to.
 * It must be attached at a message boundary (before the pipeline is written, while the
 * connection is idle).
 */
export class WireMeter {
  readonly #header = Buffer.alloc(5);
  #fill = 0;
  #bodyLeft = 0;
  #stopped = false;

  constructor(private readonly onHeader: (type: number, length: number) => boolean) {}

  get stopped(): boolean {
    return this.#stopped;
  }

  stop(): void {
    this.#stopped = true;
  }

  feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !this.#stopped) {
      if (this.#bodyLeft > 0) {
        const n = Math.min(this.#bodyLeft, chunk.length - i);
        this.#bodyLeft -= n;
        i += n;
        continue;
      }
      const n = Math.min(5 - this.#fill, chunk.length - i);
      chunk.copy(this.#header, this.#fill, i, i + n);
      this.#fill += n;
      i += n;
      if (this.#fill < 5) return;
      this.#fill = 0;
      const type = this.#header[0] as number;
      const length = this.#header.readInt32BE(1);
      if (length < 4) {
        this.#stopped = true;
        return;
      }
      this.#bodyLeft = length - 4;
      if (!this.onHeader(type, length)) this.#stopped = true;
    }
  }
}
