// Shared component styles. Lit adopts them as constructable stylesheets, which the strict CSP
// (style-src 'self', no inline <style>) allows. Colours come from custom properties in
// static/app.css so the theme lives in one place.
import { css } from "lit";

export const base = css`
  :host {
    display: block;
    box-sizing: border-box;
    color: var(--text);
    font: inherit;
  }
  *, *::before, *::after { box-sizing: inherit; }
  h1, h2, h3, p { margin: 0; }
  /* Headings grow with the text size up to a share of the screen width, so that at 200 % a
     title still leaves room for the buttons beside it; body text is never capped. */
  h1 { font-size: min(1.6rem, 10vw); line-height: 1.2; overflow-wrap: anywhere; }
  h2 { font-size: 1.2rem; }
  .screen {
    min-height: calc(100vh - var(--banner-h, 0px));
    min-height: calc(100dvh - var(--banner-h, 0px));
    display: flex;
    flex-direction: column;
    padding: calc(16px + env(safe-area-inset-top)) calc(16px + env(safe-area-inset-right))
      calc(16px + env(safe-area-inset-bottom)) calc(16px + env(safe-area-inset-left));
    max-width: 640px;
    margin: 0 auto;
    gap: 20px;
  }
  .muted { color: var(--muted); }
  .small { font-size: 0.9rem; }
  button, .button {
    font: inherit;
    min-height: var(--tap);
    min-width: var(--tap);
    padding: 10px 18px;
    border-radius: 999px;
    border: 1px solid var(--line);
    background: var(--surface);
    color: var(--text);
    cursor: pointer;
    display: inline-flex;
    align-items: center;
    justify-content: center;
    gap: 8px;
    text-decoration: none;
    touch-action: manipulation;
    /* At large text sizes a label wraps rather than spilling out of its button. */
    overflow-wrap: anywhere;
    text-align: center;
  }
  button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); font-weight: 600; }
  button.danger { background: var(--bad); border-color: var(--bad); color: var(--bad-text); font-weight: 600; }
  button.good { background: var(--good); border-color: var(--good); color: var(--good-text); font-weight: 600; }
  button.ghost { background: transparent; border-color: transparent; }
  button:disabled { opacity: 0.5; cursor: default; }
  button[aria-pressed="true"] { background: var(--text); color: var(--bg); border-color: var(--text); }
  :focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
  input[type="text"] {
    font: inherit;
    font-size: 1.1rem;
    min-height: var(--tap);
    width: 100%;
    padding: 10px 14px;
    border-radius: 12px;
    border: 1px solid var(--line);
    background: var(--surface);
    color: var(--text);
  }
  input[type="range"] { width: 100%; margin: 0; min-height: var(--tap); accent-color: var(--accent); }
  .card { background: var(--surface); border: 1px solid var(--line); border-radius: var(--radius); padding: 16px; }
  .row { display: flex; align-items: center; gap: 12px; }
  .spacer { flex: 1; }
  .sr-only {
    position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
    clip: rect(0 0 0 0); white-space: nowrap; border: 0;
  }
  .mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; letter-spacing: 0.08em; }
  .dot { width: 10px; height: 10px; border-radius: 50%; display: inline-block; flex: none; }
  .dot.online { background: var(--good); }
  .dot.reconnecting, .dot.connecting { background: var(--warn); }
  .dot.offline, .dot.replaced, .dot.refused { background: var(--bad); }
  @media (prefers-reduced-motion: no-preference) {
    .pulse { animation: pulse 1.6s ease-in-out infinite; }
    /* Never below 0.7: pulsing text ("Incoming call", "Reconnecting…") must keep 4.5:1 contrast
       at every moment of the animation, in both themes (axe catches it mid-fade otherwise). */
    @keyframes pulse { 50% { opacity: 0.7; } }
  }
`;
