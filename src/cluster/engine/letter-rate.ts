/**
 * How many dead letters one sender's refused messages may cost a minute. A refused message is kept as a dead letter
 * with its reason, so that an operator sees it; but a user who publishes refusals as fast as the server takes them
 * (forged reports, decisions naming no HUMAN task) would write as fast into the engines' dead-letter stream and push
 * out what engines keep there. Past the bound, a sender's refusals of that minute are refused all the same (acked,
 * answered, counted) without a letter, and the engine logs it once that minute.
 */
export class LetterRate {
  private readonly seen = new Map<string, { minute: number; count: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly what: string,
    private readonly o: { now: () => number; log: (line: string) => void },
  ) {}

  /** Whether `sender`'s next refusal of this minute is kept as a dead letter. */
  allow(sender: string): boolean {
    const minute = Math.floor(this.o.now() / 60_000);
    const seen = this.seen.get(sender);
    if (!seen || seen.minute !== minute) {
      // Bounded: senders are NATS users, but forget them all rather than grow without end.
      if (this.seen.size >= 10_000) this.seen.clear();
      this.seen.set(sender, { minute, count: 1 });
      return true;
    }
    seen.count++;
    if (seen.count === this.perMinute + 1)
      this.o.log(
        `${sender}: over ${this.perMinute} ${this.what} this minute; the rest are refused without a dead letter`,
      );
    return seen.count <= this.perMinute;
  }
}
