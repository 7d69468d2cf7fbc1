/**
 * A random positive 16-byte serial as hex. The top bit is cleared so the DER
 * INTEGER stays positive without a pad byte, and the first byte is non-zero so
 * the encoding stays minimal — strict parsers reject both mistakes.
 */
export function randomSerialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return Buffer.from(bytes).toString("hex");
}
