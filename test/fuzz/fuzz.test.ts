// The fuzzer in CI: 200 000 hostile messages against a real server process (TLS, 127.0.0.1,
// ephemeral port) while an innocent call runs beside them. Longer runs: README "Fuzzing".
import { expect, test } from "vitest";
import { runFuzz } from "./run.ts";

const MESSAGES = 200_000;
// A fixed seed, so CI sends the same inputs every run; VOICESRV_FUZZ_SEED=N tries others.
const SEED = Number(process.env.VOICESRV_FUZZ_SEED ?? 13);

test(`fuzz: ${MESSAGES} messages, seed ${SEED}: no crash, the innocent call gets every frame, no path or stack in any reply`, async () => {
  // The time bound is generous: unloaded, 2 cores do this in well under 60 s; a busy machine is slower, not wrong.
  const r = await runFuzz({ messages: MESSAGES, seed: SEED, maxSeconds: 240 });
  const summary = JSON.stringify({ ...r, labels: undefined }, null, 1);
  console.log(`fuzz seed ${r.seed}: ${r.messages} messages in ${r.seconds} s (${r.messagesPerSecond}/s); server RSS ${r.memory.rssBeforeMiB} → ${r.memory.rssAfterMiB} MiB; innocent ${r.innocent.received}/${r.innocent.sent}`);
  expect(r.stoppedBy, summary).toBe("count");
  expect(r.messages).toBe(MESSAGES);
  expect(r.crashes, summary).toBe(0);
  expect(r.stalls, summary).toBe(0);
  expect(r.badReplies, summary).toBe(0);
  expect(r.leaks.count, summary).toBe(0);
  expect(r.innocent.disturbed, summary).toBeNull();
  expect(r.innocent.foreign, summary).toBe(0);
  expect(r.innocent.outOfOrder, summary).toBe(0);
  expect(r.innocent.sent).toBeGreaterThan(100);
  expect(r.innocent.received, summary).toBe(r.innocent.sent);
  // Generous: a leak of even a few bytes per message would show as hundreds of MiB at this count.
  expect(r.memory.rssAfterMiB, summary).toBeLessThan(r.memory.rssBeforeMiB + 200);
  // Every kind of input was sent, and the server answered with the whole range of errors.
  for (const kind of ["hello", "rename", "leave", "call", "answer", "reject", "cancel", "hangup", "kx", "ping", "text", "binary", "frame"]) {
    expect(Object.keys(r.labels).some((l) => l.startsWith(`${kind}:`)), kind).toBe(true);
  }
  for (const code of ["bad-json", "bad-message", "unknown-type", "too-large", "already-hello", "no-such-call", "bad-frame"]) expect(r.errorCodes[code], code).toBeGreaterThan(0);
  for (const code of ["1002", "1007", "1009"]) expect(r.closeCodes[code], code).toBeGreaterThan(0);
}, 300_000);
