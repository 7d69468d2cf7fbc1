// Connections per client address (DESIGN.md limits), counted from upgrade to close — or, for a
// member away within its resume grace, until the grace ends.
export class IpSlots {
  private readonly used = new Map<string, number>();

  constructor(private readonly perIp: number) {}

  /** Checked at upgrade time, before a socket exists, so the refusal costs almost nothing. */
  canAccept(ip: string): boolean {
    return (this.used.get(ip) ?? 0) < this.perIp;
  }

  take(ip: string): void {
    this.used.set(ip, (this.used.get(ip) ?? 0) + 1);
  }

  release(ip: string): void {
    const n = (this.used.get(ip) ?? 1) - 1;
    if (n <= 0) this.used.delete(ip);
    else this.used.set(ip, n);
  }
}
