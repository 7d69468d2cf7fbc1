// Screen 8 (UX.md): preferences, the app version, and the update prompt.
import { LitElement, html, css } from "lit";
import { checkName } from "../../../protocol/display-name.ts";
import { deviceContacts, type Contact } from "../contacts.ts";
import { forgetRecentGroups } from "../recent-groups.ts";
import { settings, type Settings, type Theme } from "../settings.ts";
import { backIcon } from "./icons.ts";
import { base } from "./styles.ts";
import type { RingingState } from "../push-ringing.ts";
declare const __APP_VERSION__: string;

export class VsSettings extends LitElement {
  static properties = {
    prefs: { state: true },
    updateReady: { type: Boolean },
    serverVersion: {},
    notify: { state: true },
    myName: {},
    memberId: {},
    fingerprint: {},
    nameDraft: { state: true },
    buildHash: { state: true },
    confirmReset: { state: true },
    contacts: { state: true },
    editing: { state: true },
    ringing: { attribute: false },
  };
  /** Ringing while voicesrv is closed (issue #9); null outside a group (no server to ask). */
  declare ringing: RingingState | null;
  declare contacts: Contact[];
  /** The contact (by key) whose name is being edited. */
  declare editing: string | null;
  declare myName: string;
  declare memberId: string;
  declare fingerprint: string;
  declare nameDraft: string | null;
  declare buildHash: string;
  declare confirmReset: boolean;
  declare prefs: Settings;
  declare updateReady: boolean;
  declare serverVersion: string;
  declare notify: NotificationPermission | "unsupported";
  private unsubscribe: (() => void) | null = null;

  static styles = [
    base,
    css`
      :host { position: fixed; inset: 0; z-index: 30; background: var(--bg); overflow: auto; }
      header { display: flex; align-items: center; gap: 10px; }
      fieldset { border: 1px solid var(--line); border-radius: var(--radius); padding: 12px 16px; margin: 0; display: grid; gap: 8px; }
      legend { font-weight: 600; padding: 0 6px; }
      .choice { display: flex; gap: 8px; flex-wrap: wrap; }
      .toggle { display: flex; align-items: center; gap: 12px; min-height: var(--tap); }
      .toggle input { width: 24px; height: 24px; accent-color: var(--accent); }
      .contacts { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }
      .contacts li { flex-wrap: wrap; }
      .name-form { display: flex; gap: 8px; flex-wrap: wrap; }
      .name-form input { flex: 1 1 12rem; }
      dl { margin: 0; display: grid; gap: 4px; }
      dt { font-weight: 600; font-size: 0.9rem; }
      dd { margin: 0 0 8px; overflow-wrap: anywhere; }
      .update { background: var(--surface-2); border-radius: 12px; padding: 12px 14px; display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
    `,
  ];

  constructor() {
    super();
    this.prefs = settings.value;
    this.updateReady = false;
    this.serverVersion = "";
    this.ringing = null;
    this.notify = "Notification" in window ? Notification.permission : "unsupported";
    this.myName = "";
    this.memberId = "";
    this.fingerprint = "";
    this.nameDraft = null;
    this.buildHash = "";
    this.confirmReset = false;
    this.contacts = [];
    this.editing = null;
  }

  private async loadContacts(): Promise<void> {
    this.contacts = await deviceContacts.all();
  }

  private contactList() {
    return html`<fieldset>
      <legend>Verified contacts</legend>
      <p class="small muted">People whose safety symbols you compared on this phone. Calls with them show "Verified" without comparing again. Kept only on this phone.</p>
      ${this.contacts.length === 0
        ? html`<p class="small muted">None yet: tap "They match" after reading the symbols in a call.</p>`
        : html`<ul class="contacts">
            ${this.contacts.map((c) =>
              this.editing === c.d
                ? html`<li><form class="name-form" @submit=${(e: Event) => this.saveContactName(e, c)}>
                    <label class="sr-only" for="contact-name">Name for this contact</label>
                    <input id="contact-name" type="text" maxlength="64" .value=${c.name} />
                    <button type="submit">Save</button>
                  </form></li>`
                : html`<li class="row" data-contact=${c.d}>
                    <span class="spacer">✓ ${c.name}</span>
                    <button @click=${() => (this.editing = c.d)} aria-label=${`Rename ${c.name}`}>Rename</button>
                    <button @click=${async () => { await deviceContacts.forget(c.d); await this.loadContacts(); }} aria-label=${`Forget ${c.name}`}>Forget</button>
                  </li>`,
            )}
          </ul>`}
    </fieldset>`;
  }

  private async saveContactName(e: Event, c: Contact): Promise<void> {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).querySelector("input")!;
    const check = checkName(input.value);
    if (!check.ok) return;
    await deviceContacts.rename(c.d, check.name);
    this.editing = null;
    await this.loadContacts();
  }

  override firstUpdated(): void {
    void this.loadContacts();
    // The hash of the app files this server served, to compare with the published release.
    void fetch("/build.json")
      .then((r) => (r.ok ? r.json() : null))
      .then((b: { hash?: string } | null) => (this.buildHash = typeof b?.hash === "string" ? b.hash : "unknown"))
      .catch(() => (this.buildHash = "unknown"));
  }

  private saveName(e: Event): void {
    e.preventDefault();
    const c = checkName(this.nameDraft ?? "");
    if (!c.ok) return;
    this.dispatchEvent(new CustomEvent("rename", { detail: c.name, bubbles: true, composed: true }));
    this.nameDraft = null;
  }

  private you() {
    const draft = this.nameDraft ?? this.myName;
    const valid = checkName(draft).ok;
    return html`<fieldset>
      <legend>You</legend>
      <form class="name-form" @submit=${this.saveName}>
        <label class="sr-only" for="my-name">Your name</label>
        <input id="my-name" type="text" maxlength="64" .value=${draft} @input=${(e: Event) => (this.nameDraft = (e.target as HTMLInputElement).value)} />
        <button type="submit" ?disabled=${!valid || draft.trim() === this.myName}>Save name</button>
      </form>
      <dl>
        <dt>Your ID</dt><dd class="mono" data-testid="settings-id">${this.memberId || "—"}</dd>
        <dt>Safety key of this phone</dt><dd class="mono small" data-testid="fingerprint">${this.fingerprint || "—"}</dd>
        <dt>App build</dt><dd class="mono small" data-testid="build-hash">${this.buildHash || "…"}</dd>
      </dl>
      <p class="small muted">The build can be compared with the published release: the server sends this app's code, so a server that changed it could change everything else too.</p>
      ${this.confirmReset
        ? html`<p class="small">A new identity makes you a new person in every group (the old one stays listed until it is removed). This phone stays able to join its private groups.</p>
            <div class="choice"><button class="danger" @click=${() => this.fire("reset-identity")}>Reset identity</button><button @click=${() => (this.confirmReset = false)}>Keep it</button></div>`
        : html`<button @click=${() => (this.confirmReset = true)}>Reset this phone's identity…</button>`}
    </fieldset>`;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.unsubscribe = settings.subscribe((s) => (this.prefs = s));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  private fire(name: string): void {
    this.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true }));
  }

  private choice<T extends string>(label: string, current: T, options: [T, string][], set: (v: T) => void) {
    return html`<div class="choice" role="group" aria-label=${label}>
      ${options.map(([v, text]) => html`<button aria-pressed=${current === v ? "true" : "false"} @click=${() => set(v)}>${text}</button>`)}
    </div>`;
  }

  private toggle(label: string, checked: boolean, set: (v: boolean) => void) {
    return html`<label class="toggle"><input type="checkbox" .checked=${checked} @change=${(e: Event) => set((e.target as HTMLInputElement).checked)} />${label}</label>`;
  }

  private async askNotifications(): Promise<void> {
    if (this.notify === "unsupported") return;
    this.notify = await Notification.requestPermission();
  }

  private ringWhenClosed() {
    const r = this.ringing;
    if (!r) return html`<p class="small muted" data-testid="ringing-state">Open a group to set up ringing while voicesrv is closed.</p>`;
    if (r.kind === "on")
      return html`<p class="small" data-testid="ringing-state">This phone rings even when voicesrv is closed.</p>
        <button @click=${() => this.fire("ringing-off")}>Stop ringing when closed</button>`;
    if (r.kind === "off") return html`<button data-testid="ringing-on" @click=${() => this.fire("ringing-on")}>Ring this phone when voicesrv is closed</button>`;
    return html`<p class="small muted" data-testid="ringing-state">Can't ring while closed: ${r.reason}</p>`;
  }

  override render() {
    const p = this.prefs;
    return html`<main class="screen" aria-labelledby="settings-h">
      <header>
        <button class="ghost" aria-label="Close settings" @click=${() => this.fire("close")}>${backIcon}</button>
        <h1 id="settings-h">Settings</h1>
      </header>
      ${this.updateReady
        ? html`<div class="update" role="status"><span>Update available.</span><span class="spacer"></span><button class="primary" @click=${() => this.fire("apply-update")}>Reload</button></div>`
        : null}
      ${this.you()}
      ${this.contactList()}
      <fieldset>
        <legend>Calls start on</legend>
        ${this.choice("Default audio output", p.mode, [["private", "Quiet (hold the phone to your ear)"], ["speaker", "Speaker"]], (mode) => void settings.update({ mode }))}
        <label class="small">Volume
          <input type="range" min="0" max="1" step="0.05" .value=${String(p.volume)} @change=${(e: Event) => void settings.update({ volume: Number((e.target as HTMLInputElement).value) })} />
        </label>
      </fieldset>
      <fieldset>
        <legend>Incoming calls</legend>
        ${this.toggle("Ringtone", p.ringtone, (ringtone) => void settings.update({ ringtone }))}
        ${this.toggle("Vibration", p.vibration, (vibration) => void settings.update({ vibration }))}
        ${this.notify === "unsupported" ? null
          : this.notify === "granted" ? html`<p class="small muted">Notifications are on for calls that arrive while voicesrv is in the background.</p>`
          : this.notify === "denied" ? html`<p class="small muted">Notifications are blocked for this site in your browser settings.</p>`
          : html`<button @click=${() => void this.askNotifications()}>Notify me of calls in the background</button>`}
        ${this.ringWhenClosed()}
      </fieldset>
      <fieldset>
        <legend>Theme</legend>
        ${this.choice<Theme>("Theme", p.theme, [["system", "Like my device"], ["light", "Light"], ["dark", "Dark"]], (theme) => void settings.update({ theme }))}
      </fieldset>
      <fieldset>
        <legend>This device</legend>
        <button @click=${async () => { await forgetRecentGroups(); this.fire("forgot-groups"); }}>Forget recent groups</button>
      </fieldset>
      <p class="small muted">App version ${__APP_VERSION__}${this.serverVersion ? ` · server ${this.serverVersion}` : ""}</p>
    </main>`;
  }
}
customElements.define("vs-settings", VsSettings);
