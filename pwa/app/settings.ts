// User preferences (Settings screen), kept in IndexedDB on this device.
import { database } from "./db.ts";

export type Theme = "system" | "light" | "dark";
/** "private" is shown as "Quiet" (20 % volume); the stored name stays for saved settings. */
export type AudioMode = "private" | "speaker";

export interface Settings {
  mode: AudioMode;
  volume: number; // 0..1
  ringtone: boolean;
  vibration: boolean;
  theme: Theme;
  /** "Not now" on the offer to ring this phone when the app is closed (issue #9). */
  ringOfferDismissed: boolean;
  /** Ringing while closed was turned on here: a dropped subscription is made again. */
  ringWhenClosed: boolean;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  mode: "private",
  volume: 0.8,
  ringtone: true,
  vibration: true,
  theme: "system",
  ringOfferDismissed: false,
  ringWhenClosed: false,
});

type Listener = (s: Settings) => void;

class SettingsStore {
  value: Settings = { ...DEFAULT_SETTINGS };
  private listeners = new Set<Listener>();

  async load(): Promise<Settings> {
    try {
      const stored = (await (await database()).get("settings", "prefs")) as Partial<Settings> | undefined;
      this.value = { ...DEFAULT_SETTINGS, ...(stored ?? {}) };
    } catch {
      this.value = { ...DEFAULT_SETTINGS };
    }
    this.emit();
    return this.value;
  }

  async update(patch: Partial<Settings>): Promise<void> {
    this.value = { ...this.value, ...patch };
    this.emit();
    try {
      await (await database()).put("settings", this.value, "prefs");
    } catch {
      // kept for this session only
    }
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    document.documentElement.dataset.theme = this.value.theme === "system" ? "" : this.value.theme;
    if (this.value.theme === "system") delete document.documentElement.dataset.theme;
    for (const fn of this.listeners) fn(this.value);
  }
}

export const settings = new SettingsStore();
