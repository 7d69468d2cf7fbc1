// "last seen 2 h ago" for offline people: coarse on purpose (a family app, not a tracker).
export function lastSeenText(lastSeen: number, now = Date.now()): string {
  const s = Math.max(0, (now - lastSeen) / 1000);
  if (s < 90) return "last seen just now";
  const m = s / 60;
  if (m < 60) return `last seen ${Math.round(m)} min ago`;
  const h = m / 60;
  if (h < 24) return `last seen ${Math.round(h)} h ago`;
  const d = h / 24;
  if (d < 2) return "last seen yesterday";
  if (d < 30) return `last seen ${Math.round(d)} days ago`;
  return "last seen over a month ago";
}
