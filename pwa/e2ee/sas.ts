// PROTOCOL.md §5: 24 SAS bits → four 6-bit indexes into SAS_TABLE, most significant first.

import { SAS_TABLE, type SasSymbol } from "./sas-table.ts";

export interface Sas {
  bits: number; // 24-bit
  symbols: SasSymbol[]; // 4
}

export function sasFromBits(bits: number): Sas {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffff) throw new RangeError("SAS must be 24 bits");
  const symbols = [18, 12, 6, 0].map((shift) => SAS_TABLE[(bits >> shift) & 63]!);
  return { bits, symbols };
}

/** "🐶 dog · 🔑 key · 🌵 cactus · 🚲 bicycle", as in PROTOCOL.md §5. */
export function formatSas(sas: Sas): string {
  return sas.symbols.map((s) => `${s.emoji} ${s.name}`).join(" · ");
}
