// What the screens need about ringing while the app is closed (issue #9): the state for
// Settings, the one-time offer after a call, the subscription kept fresh on every welcome,
// and missed calls noticed while the app was open.
import type { CallView } from "./call-controller.ts";
import type { Connection } from "./connection.ts";
import { recordMissedCall } from "./missed-calls.ts";
import { disableRinging, enableRinging, refreshRinging, ringingState, type RingingState } from "./push-ringing.ts";
import { settings } from "./settings.ts";

/** The server's reasons for a ringing call that ended without anyone answering. */
const MISSED_REASONS = new Set(["cancelled", "no-answer", "peer-gone"]);

export class ClosedAppRinging {
  state: RingingState = { kind: "off" };
  /** Show "Ring this phone when voicesrv is closed?" (after a call, never on load). */
  offer = false;
  private conn: Connection | null = null;

  constructor(private readonly changed: () => void) {}

  attach(conn: Connection): void {
    this.conn = conn;
    const ringing = new Map<string, string>();
    conn.on("message", (m) => {
      if (m.t === "welcome") void refreshRinging(conn).finally(() => this.update());
      else if (m.t === "incoming") ringing.set(m.callId, m.from);
      else if (m.t === "connected") ringing.delete(m.callId);
      else if (m.t === "ended") {
        const from = ringing.get(m.callId);
        ringing.delete(m.callId);
        if (from && MISSED_REASONS.has(m.reason)) {
          const name = conn.members.get(from)?.name ?? from;
          void recordMissedCall({ callId: m.callId, group: conn.group, name, from, at: Date.now() }).then(this.changed, () => {});
        }
      }
    });
  }

  async update(): Promise<void> {
    this.state = await ringingState(this.conn?.pushKey ?? null).catch((): RingingState => ({ kind: "unavailable", reason: "This browser can't ring when voicesrv is closed." }));
    this.changed();
  }

  /** A call just finished: the moment to offer, once, if it can be turned on. */
  callFinished(v: CallView): void {
    if (v.phase !== "ended" && v.phase !== "idle") return;
    void this.update().then(() => {
      if (this.state.kind === "off" && !settings.value.ringOfferDismissed && !this.offer) {
        this.offer = true;
        this.changed();
      }
    });
  }

  async enable(): Promise<void> {
    this.offer = false;
    if (this.conn) this.state = await enableRinging(this.conn);
    this.changed();
  }

  async disable(): Promise<void> {
    await disableRinging(this.conn).catch(() => {});
    await this.update();
  }

  dismissOffer(): void {
    this.offer = false;
    void settings.update({ ringOfferDismissed: true });
    this.changed();
  }
}
