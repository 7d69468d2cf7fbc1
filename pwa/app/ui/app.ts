// The app shell: which screen is showing, the group connection, toasts and the screen-reader
// announcements of call state changes.
import { LitElement, html, css } from "lit";
import { AnswerFromNotification } from "../answer-from-notification.ts";
import { CallController, type CallView } from "../call-controller.ts";
import { ClosedAppRinging } from "../closed-app-ringing.ts";
import { dismissMissedCall, missedCalls, type MissedCall } from "../missed-calls.ts";
import { dropSubscriptionForNewIdentity } from "../push-ringing.ts";
import { Connection } from "../connection.ts";
import { LinkClient } from "../../link/link-client.ts";
import { groupKeys } from "../../../protocol/identity-v2.ts";
import { deviceContacts } from "../contacts.ts";
import { DeviceIdentity } from "../device-identity.ts";
import { forgetGroupSecret, groupSecret, inviteLink, markGroupCreated, newGroupSecret, saveGroupSecret, secretFromFragment } from "../group-secrets.ts";
import { loadMyName, saveMyName } from "../my-name.ts";
import { forgetRecentGroup, recentGroups, rememberGroup } from "../recent-groups.ts";
import { applyUpdate, caCertificateOffered, registerServiceWorker, type WorkerState } from "../service-worker.ts";
import { settings } from "../settings.ts";
import { installTestHook } from "../test-hook.ts";
import { infoIcon } from "./icons.ts";
import { base } from "./styles.ts";
import "./about.ts";
import "./group.ts";
import "./in-call.ts";
import "./incoming.ts";
import "./invite-sheet.ts";
import "./onboarding.ts";
import type { VsLanding } from "./landing.ts";
import "./landing.ts";
import { readGroupPath, type BadGroupLink } from "../group-link.ts";
import "./outgoing.ts";
import "./security-failure.ts";
import "./settings-panel.ts";

let links: LinkClient | null = null;

type Overlay = null | "settings" | "about" | "trust" | "invite";


export class VsApp extends LitElement {
  static properties = {
    group: { state: true },
    overlay: { state: true },
    toast: { state: true },
    announcement: { state: true },
    alertText: { state: true },
    worker: { state: true },
    updateReady: { state: true },
    caAvailable: { state: true },
    tick: { state: true },
    myName: { state: true },
    identity: { state: true },
    inviteUrl: { state: true },
    badLink: { state: true },
  };
  /** undefined while loading; null until the person has chosen a name. */
  declare myName: string | null | undefined;
  declare identity: DeviceIdentity | null;
  declare inviteUrl: string;
  /** The address was not a group address: the landing page says why (group-link.ts). */
  declare badLink: BadGroupLink | null;
  declare group: string | null;
  declare overlay: Overlay;
  declare toast: string;
  declare announcement: string;
  declare alertText: string;
  declare worker: WorkerState;
  declare updateReady: boolean;
  declare caAvailable: boolean;
  /** Bumped on connection and call changes: both are plain objects, not reactive state. */
  declare tick: number;

  private conn: Connection | null = null;
  private calls: CallController | null = null;
  private toastTimer: ReturnType<typeof setTimeout> | null = null;
  private lastView: CallView | null = null;
  private readonly ringing = new ClosedAppRinging(() => void this.refreshMissed());
  private readonly answerFromNotification = new AnswerFromNotification();
  private missed: MissedCall[] = [];

  static styles = [
    base,
    css`
      /* One fixed-height line, so the screens below can subtract it and nothing scrolls. */
      :host([banner]) { --banner-h: 56px; }
      .banner { max-width: 640px; margin: 0 auto; padding: calc(8px + env(safe-area-inset-top)) 16px 0; height: calc(var(--banner-h) + env(safe-area-inset-top)); }
      .banner button { width: 100%; height: 48px; justify-content: flex-start; background: var(--surface-2); border-radius: 12px; white-space: nowrap; overflow: hidden; }
      .toast {
        position: fixed; left: 50%; transform: translateX(-50%); bottom: calc(24px + env(safe-area-inset-bottom));
        background: var(--text); color: var(--bg); padding: 12px 20px; border-radius: 999px; z-index: 50; max-width: 90vw;
      }
      .toast.update { display: flex; align-items: center; gap: 4px; white-space: nowrap; padding: 4px 4px 4px 20px; }
      /* The shared ghost button takes the page's text colour, which is this toast's background. */
      .toast button { color: inherit; font-weight: 600; text-decoration: underline; text-underline-offset: 3px; }
    `,
  ];

  constructor() {
    super();
    this.badLink = null;
    this.group = null;
    this.overlay = null;
    this.toast = "";
    this.announcement = "";
    this.alertText = "";
    this.worker = "pending";
    this.updateReady = false;
    this.caAvailable = false;
    this.tick = 0;
    this.myName = undefined;
    this.identity = null;
    this.inviteUrl = "";
    installTestHook(() => ({ conn: this.conn, calls: this.calls }));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener("popstate", () => this.route());
    void settings.load();
    void this.boot();
    void registerServiceWorker({
      state: (s) => {
        this.worker = s;
        if (s === "untrusted") void caCertificateOffered().then((ok) => (this.caAvailable = ok));
      },
      updateReady: () => (this.updateReady = true),
    });
  }

  private async boot(): Promise<void> {
    this.myName = await loadMyName();
    try {
      this.identity = await DeviceIdentity.load();
    } catch {
      // No IndexedDB (some private modes): the connection reports that joining is impossible.
      this.identity = null;
    }
    // A home-screen launch (manifest start_url) goes straight back to the last group.
    const params = new URLSearchParams(location.search);
    if (location.pathname === "/" && params.get("launch") === "home") {
      const last = (await recentGroups())[0];
      history.replaceState(null, "", last ? `/${last.group}` : "/");
    }
    this.route();
  }

  private route(): void {
    const { group: g, bad } = readGroupPath(location.pathname);
    this.badLink = bad;
    const secret = g ? secretFromFragment(location.hash) : null;
    if (g && `/${g}` !== location.pathname) history.replaceState(null, "", `/${g}${location.search}${location.hash}`);
    if (g && location.hash) {
      // The invite's secret must not stay in the address bar, history or a copied URL.
      history.replaceState(null, "", `/${g}${location.search}`);
    }
    if (g && secret) {
      void saveGroupSecret(g, secret, false).then(() => this.connectTo(g, true));
      return;
    }
    this.connectTo(g);
  }

  private connectTo(g: string | null, force = false): void {
    if (g === this.group && !force) return;
    if (this.myName == null) {
      // Onboarding first; the group opens once a name is chosen.
      this.group = g;
      return;
    }
    this.calls?.hangup();
    this.conn?.close();
    this.conn = null;
    this.calls = null;
    this.lastView = null;
    this.group = g;
    if (!g) return;
    void rememberGroup(g);
    const name = this.myName;
    const identity = this.identity;
    // The sockets, and a call's media, live in the link worker (started once per page).
    links ??= LinkClient.start();
    const conn = new Connection(
      g,
      async (n) => {
        if (!identity) throw new Error("no device identity");
        return identity.hello(n, g, this.myName ?? name, await groupSecret(g));
      },
      undefined,
      links.link(),
    );
    // Calls need this device's key; without one (no IndexedDB) joining already failed.
    const calls = new CallController(conn, {
      device: identity?.signer ?? { publicKey: new Uint8Array(65), sign: () => Promise.reject(new Error("no device key")) },
      psk: async () => {
        if (!conn.isPrivate) return null;
        const s = await groupSecret(g);
        return s ? (await groupKeys(s.secret)).psk : null;
      },
      contacts: deviceContacts,
    });
    this.conn = conn;
    this.calls = calls;
    this.ringing.attach(conn);
    this.answerFromNotification.attach(calls);
    void this.refreshMissed();
    conn.on("status", () => this.tick++);
    conn.on("message", (m) => {
      if (m.t === "welcome") void markGroupCreated(g);
      this.tick++;
    });
    conn.on("status", () => {
      // A name taken by someone else's group: the secret this device made is of no use.
      if (conn.refusal?.code !== "group-exists") return;
      void groupSecret(g).then(async (s) => {
        if (s?.creating) await forgetGroupSecret(g);
      });
    });
    calls.subscribe((v) => this.onCallView(v));
  }

  private async refreshMissed(): Promise<void> {
    const g = this.group;
    this.missed = g ? await missedCalls(g).catch(() => []) : [];
    this.tick++;
  }

  private callBack(c: MissedCall): void {
    void dismissMissedCall(c.callId).then(() => this.refreshMissed());
    void this.calls?.call(c.from);
  }

  private navigate(path: string): void {
    history.pushState(null, "", path);
    this.route();
  }

  private onCallView(v: CallView): void {
    const prev = this.lastView;
    this.lastView = v;
    this.tick++;
    if (prev?.phase === v.phase && prev.encrypted === v.encrypted && prev.verification === v.verification && prev.peerAway === v.peerAway && prev.outgoing === v.outgoing) return;
    const say = (t: string): void => {
      this.announcement = t;
    };
    v = { ...v, peer: this.nameOf(v.peer) };
    switch (v.phase) {
      case "outgoing":
        return say(v.outgoing === "ringing" ? `Ringing ${v.peer}` : `Calling ${v.peer}`);
      case "incoming":
        this.alertText = `Incoming call from ${v.peer}`;
        return;
      case "in-call":
        if (v.peerAway) return say(`${v.peer}'s connection dropped. Reconnecting.`);
        if (prev?.peerAway) return say(`${v.peer} is back.`);
        if (!v.encrypted) return say(`Connected to ${v.peer}. Securing the call.`);
        if (v.verification === "verified") return say(`Call encrypted. Verified contact: ${v.contactName ?? v.peer}.`);
        return say(`Call encrypted, not verified yet. Safety code: ${v.sas?.map((s) => s.name).join(", ")}`);
      case "ended":
        this.ringing.callFinished(v);
        return say(v.endedText);
      case "security-failure":
        this.alertText = v.failureText;
        return;
      case "idle":
        if (prev && prev.phase !== "idle") {
          this.ringing.callFinished(v);
          say("Call ended");
        }
        return;
    }
  }

  private showToast(text: string): void {
    this.toast = text;
    if (this.toastTimer) clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => (this.toast = ""), 2500);
  }

  private async invite(): Promise<void> {
    const g = this.group;
    if (!g) return;
    const secret = this.conn?.isPrivate ? ((await groupSecret(g))?.secret ?? null) : null;
    this.inviteUrl = inviteLink(location.origin, g, secret);
    this.overlay = "invite";
  }

  private async onName(name: string): Promise<void> {
    const first = this.myName == null;
    const c = await saveMyName(name).catch(() => null);
    if (!c?.ok) return this.showToast("Couldn't save your name on this device.");
    this.myName = c.name;
    if (first) this.connectTo(this.group, true);
    else {
      this.conn?.send({ t: "rename", name: c.name });
      this.showToast("Name saved");
    }
  }

  /** A signed leave (IDENTITY.md §4): off the group's list, its secret and recent entry forgotten here. */
  private async leaveGroup(): Promise<void> {
    const g = this.group;
    const conn = this.conn;
    const identity = this.identity;
    if (!g || !conn || !identity) return;
    const sent = await conn.leaveGroup((n) => identity.leave(n, g));
    if (!sent) return this.showToast("You're offline — try again when connected.");
    await forgetGroupSecret(g).catch(() => {});
    await forgetRecentGroup(g);
    this.navigate("/");
    this.showToast(`You left ${g}`);
  }

  private async createPrivate(group: string): Promise<void> {
    await saveGroupSecret(group, newGroupSecret(), true);
    this.navigate(`/${group}`);
  }

  private async resetIdentity(): Promise<void> {
    this.calls?.hangup();
    // This phone's pushes belong to the old member; the new one re-subscribes on its welcome.
    await dropSubscriptionForNewIdentity(this.conn).catch(() => {});
    await DeviceIdentity.reset();
    location.reload();
  }

  /** People are shown by the name the roster gives them; the ID only where no name is known. */
  private nameOf(id: string): string {
    return this.conn?.members.get(id)?.name ?? id;
  }

  private callScreen() {
    const calls = this.calls;
    const view = calls?.view;
    if (!calls || !view) return null;
    const v = { ...view, peer: this.nameOf(view.peer) };
    switch (v.phase) {
      case "outgoing":
      case "ended":
        return html`<vs-outgoing .view=${v} @hangup=${() => calls.hangup()} @dismiss=${() => calls.dismiss()}></vs-outgoing>`;
      case "incoming":
        return html`<vs-incoming .view=${v} @accept=${() => void calls.accept()} @decline=${() => calls.decline()}></vs-incoming>`;
      case "in-call":
        return html`<vs-in-call .view=${v} ?reconnecting=${this.conn?.status !== "online"}
          @hangup=${() => calls.hangup()} @mute=${(e: CustomEvent<boolean>) => calls.setMuted(e.detail)}
          @mode=${(e: CustomEvent<"private" | "speaker">) => calls.setMode(e.detail)}
          @volume=${(e: CustomEvent<number>) => calls.setVolume(e.detail)}
          @sas-verdict=${(e: CustomEvent<boolean>) => calls.sasVerdict(e.detail)}></vs-in-call>`;
      case "security-failure":
        return html`<vs-security-failure .view=${v} @dismiss=${() => calls.dismiss()}></vs-security-failure>`;
      default:
        return null;
    }
  }

  private trustBanner() {
    if (this.worker !== "untrusted") return null;
    return html`<div class="banner">
      <button class="small" @click=${() => (this.overlay = "trust")}>${infoIcon} Offline use isn't available here — why?</button>
    </div>`;
  }

  private overlayScreen() {
    const close = () => (this.overlay = null);
    switch (this.overlay) {
      case "invite":
        return html`<vs-invite-sheet .link=${this.inviteUrl} .group=${this.group ?? ""} ?isPrivate=${this.conn?.isPrivate ?? false} @close=${close}></vs-invite-sheet>`;
      case "settings":
        return html`<vs-settings ?updateReady=${this.updateReady} .serverVersion=${this.conn?.serverVersion ?? ""}
          .myName=${this.myName ?? ""} .memberId=${this.identity?.id ?? ""} .fingerprint=${this.identity?.fingerprint ?? ""}
          @rename=${(e: CustomEvent<string>) => void this.onName(e.detail)} @reset-identity=${() => void this.resetIdentity()}
          .ringing=${this.conn ? this.ringing.state : null}
          @ringing-on=${() => void this.ringing.enable()} @ringing-off=${() => void this.ringing.disable()}
          @close=${close} @apply-update=${() => void applyUpdate()} @forgot-groups=${() => {
            this.showToast("Recent groups forgotten");
            this.renderRoot.querySelector<VsLanding>("vs-landing")?.refresh();
          }}></vs-settings>`;
      case "about":
        return html`<vs-about topic="protection" @close=${close}></vs-about>`;
      case "trust":
        return html`<vs-about topic="trust" ?caAvailable=${this.caAvailable} @close=${close}></vs-about>`;
      default:
        return null;
    }
  }

  override render() {
    if (this.myName === undefined) return null;
    if (this.myName === null) return html`<vs-onboarding @name=${(e: CustomEvent<string>) => void this.onName(e.detail)}></vs-onboarding>`;
    const conn = this.conn;
    const phase = this.calls?.view.phase ?? "idle";
    this.toggleAttribute("banner", this.worker === "untrusted" && phase === "idle");
    const main = this.group && conn
      ? html`<vs-group .group=${this.group} .me=${conn.me} .myName=${this.myName} ?isPrivate=${conn.isPrivate} .refusal=${conn.refusal}
          .members=${[...conn.members.values()]} .link=${conn.status} .retryIn=${conn.retryIn}
          .missed=${this.missed} ?ringOffer=${this.ringing.offer}
          @ringing-on=${() => void this.ringing.enable()} @ringing-not-now=${() => this.ringing.dismissOffer()}
          @call-back=${(e: CustomEvent<MissedCall>) => this.callBack(e.detail)}
          @dismiss-missed=${(e: CustomEvent<string>) => void dismissMissedCall(e.detail).then(() => this.refreshMissed())}
          @leave=${() => this.navigate("/")} @leave-group=${() => void this.leaveGroup()} @call=${(e: CustomEvent<string>) => void this.calls?.call(e.detail)}
          @invite=${() => void this.invite()} @take-over=${() => conn.takeOver()}
          @open-settings=${() => (this.overlay = "settings")}></vs-group>`
      : html`<vs-landing .badLink=${this.badLink} @join=${(e: CustomEvent<string>) => this.navigate(`/${e.detail}`)} @create-private=${(e: CustomEvent<string>) => void this.createPrivate(e.detail)}
          @open-settings=${() => (this.overlay = "settings")} @open-about=${() => (this.overlay = "about")}></vs-landing>`;
    return html`
      ${phase === "idle" ? this.trustBanner() : null}
      <div ?inert=${phase !== "idle" && phase !== "ended"} aria-hidden=${phase !== "idle" && phase !== "outgoing" && phase !== "ended" ? "true" : "false"}>
        ${phase === "outgoing" || phase === "ended" ? null : main}
      </div>
      ${this.callScreen()}
      ${this.overlayScreen()}
      ${this.updateReady && !this.overlay && phase === "idle"
        ? html`<div class="toast update" role="status">Update available — <button class="ghost" @click=${() => void applyUpdate()}>Reload</button></div>`
        : this.toast ? html`<div class="toast" role="status">${this.toast}</div>` : null}
      <div class="sr-only" aria-live="polite" data-testid="announcer">${this.announcement}</div>
      <div class="sr-only" role="alert">${this.alertText}</div>
    `;
  }
}
customElements.define("vs-app", VsApp);
