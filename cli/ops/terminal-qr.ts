// A QR code for a terminal: two modules per character cell with half blocks and a quiet zone.
// On a colour terminal it is drawn black on an explicit white background, so it scans on light
// and dark themes alike; without colour (NO_COLOR, a pipe) it assumes the usual dark terminal
// and draws the light modules instead.
import QRCode from "qrcode";

const QUIET = 2;

export function terminalQr(text: string, colour = !process.env.NO_COLOR && Boolean(process.stdout.isTTY)): string {
  const m = QRCode.create(text, { errorCorrectionLevel: "M" }).modules;
  const dark = (y: number, x: number) => y >= 0 && x >= 0 && y < m.size && x < m.size && Boolean(m.get(y, x));
  // Which of the two modules in a cell get ink.
  const ink = (y: number, x: number) => (colour ? dark(y, x) : !dark(y, x));
  const lines: string[] = [];
  for (let y = -QUIET; y < m.size + QUIET; y += 2) {
    let line = "";
    for (let x = -QUIET; x < m.size + QUIET; x++) {
      const top = ink(y, x);
      const bottom = ink(y + 1, x);
      line += top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ";
    }
    lines.push(colour ? `\x1b[30;47m${line}\x1b[0m` : line);
  }
  return lines.join("\n");
}
