// Page-level colours and layout, adopted as a constructable stylesheet. Components read these
// custom properties through their shadow roots, so the theme switches in one place: the system
// scheme, or the user's choice in Settings (html[data-theme]).
// Not a static .css file: the CSP allows adopted sheets, and vitest turns any imported .css
// into an empty string, which would break the embedded-asset map (dist/pwa-assets.ts) in tests.
import { css } from "lit";

// One dark palette for both ways of choosing it: the system setting (unless the user picked
// light) and the user's explicit choice. Bright fills (accent, good, bad) carry dark text in the
// dark theme: white on #5fd08a is 1.93:1, #062019 on it is over 9:1 (WCAG AA needs 4.5:1).
const darkPalette = css`
  --bg: #0f1513;
  --surface: #18211e;
  --surface-2: #223029;
  --text: #e8efec;
  --muted: #a3b3ad;
  --line: #33443e;
  --accent: #4fc3a1;
  --accent-text: #062019;
  --good: #5fd08a;
  --good-text: #062019;
  --warn: #f0b64a;
  --bad: #ff8a80;
  --bad-text: #2b0400;
  --focus: #8ab4ff;
`;

export const pageStyles = css`
:root {
  color-scheme: light dark;
  --bg: #f6f8f7;
  --surface: #ffffff;
  --surface-2: #eaf0ee;
  --text: #15201d;
  --muted: #55625e;
  --line: #d3ddd9;
  --accent: #0f6b58;
  --accent-text: #ffffff;
  --good: #157a3a;
  --good-text: #ffffff;
  --warn: #9a6200;
  --bad: #b3261e;
  --bad-text: #ffffff;
  --focus: #1f6feb;
  --radius: 16px;
  --tap: 48px;
}
@media (prefers-color-scheme: dark) {
  :root:not([data-theme="light"]) {
    ${darkPalette}
  }
}
:root[data-theme="dark"] {
  color-scheme: dark;
  ${darkPalette}
}
:root[data-theme="light"] { color-scheme: light; }
html, body { margin: 0; min-height: 100%; }
body {
  background: var(--bg);
  color: var(--text);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  /* In rem, not px: a larger default text size (browser setting, or the test's 200 %) scales
     every screen instead of only the headings. 1.0625rem is 17px at the usual 16px. */
  font-size: 1.0625rem;
  line-height: 1.45;
  -webkit-text-size-adjust: 100%;
  text-size-adjust: 100%;
}
vs-app { display: block; min-height: 100vh; min-height: 100dvh; }
.boot { text-align: center; padding: 40vh 1rem 0; color: var(--muted); }
`;

export function adoptPageStyles(): void {
  const sheet = pageStyles.styleSheet;
  if (sheet) document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}
