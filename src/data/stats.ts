/** Token-length distribution kept as a histogram: constant memory however many rows. */
export class LengthStats {
  private readonly hist: Uint32Array;
  count = 0;
  truncated = 0;
  max = 0;

  constructor(private readonly cap = 8192) {
    this.hist = new Uint32Array(cap + 1);
  }

  add(fullLength: number, maxLength: number): void {
    this.hist[Math.min(fullLength, this.cap)]++;
    this.count++;
    if (fullLength > maxLength) this.truncated++;
    if (fullLength > this.max) this.max = fullLength;
  }

  percentile(p: number): number {
    if (this.count === 0) return 0;
    const target = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let len = 0; len <= this.cap; len++) {
      seen += this.hist[len];
      if (seen >= target) return len;
    }
    return this.cap;
  }

  summary() {
    return {
      p50: this.percentile(50),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.max,
      truncated: this.truncated,
      truncation_rate: this.count ? this.truncated / this.count : 0,
    };
  }
}
