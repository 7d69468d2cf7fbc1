// npm run fuzz -- --messages 10000000 --seed 7 [--max-seconds 3600] [--workers 6] [--json]
// Ctrl-C stops early and still prints the report.
// Exit 0 only when nothing crashed, the innocent call got every frame, and no reply leaked a
// path or a stack (README "Fuzzing").
import { parseArgs } from "node:util";
import { runFuzz } from "./run.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "1000000" },
    seed: { type: "string", default: String(Date.now() % 100000) },
    "max-seconds": { type: "string", default: "3600" },
    workers: { type: "string", default: "6" },
    json: { type: "boolean", default: false },
  },
});
const int = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`fuzz: --${name} must be a whole number, got "${v}"`);
    process.exit(2);
  }
  return n;
};
// Ctrl-C (or SIGTERM) ends the run early with a report, and the server process is stopped.
const stop = new AbortController();
process.once("SIGINT", () => stop.abort());
process.once("SIGTERM", () => stop.abort());
const report = await runFuzz({
  signal: stop.signal,
  messages: int("messages", values.messages!),
  seed: int("seed", values.seed!),
  maxSeconds: int("max-seconds", values["max-seconds"]!),
  workers: Math.max(1, int("workers", values.workers!)),
  progress: values.json ? undefined : (l) => console.error(`fuzz: ${l}`),
});
const ok = report.crashes === 0 && report.stalls === 0 && report.badReplies === 0 && report.leaks.count === 0 && report.innocent.received === report.innocent.sent && report.innocent.foreign === 0 && !report.innocent.disturbed;
if (values.json) console.log(JSON.stringify(report, null, 2));
else {
  const r = report;
  console.log(`seed                 ${r.seed}`);
  console.log(`messages             ${r.messages} in ${r.seconds} s (${r.messagesPerSecond}/s), stopped by ${r.stoppedBy}, ${r.reconnects} reconnects`);
  console.log(`crashes              ${r.crashes}${r.crashDetails.length ? `: ${r.crashDetails.slice(0, 5).join("; ")}` : ""}`);
  console.log(`stalls               ${r.stalls}`);
  console.log(`innocent call        ${r.innocent.received} of ${r.innocent.sent} frames (${r.innocent.deliveredPercent} %), ${r.innocent.foreign} foreign, ${r.innocent.outOfOrder} out of order${r.innocent.disturbed ? `, DISTURBED: ${r.innocent.disturbed}` : ""}`);
  console.log(`server memory        ${r.memory.rssBeforeMiB} MiB RSS before, ${r.memory.rssAfterMiB} MiB after`);
  console.log(`leaks (path/stack)   ${r.leaks.count}${r.leaks.examples.length ? `: ${r.leaks.examples.join(" | ")}` : ""}`);
  console.log(`bad replies          ${r.badReplies}`);
  console.log(`close codes          ${JSON.stringify(r.closeCodes)}`);
  console.log(`error codes          ${JSON.stringify(r.errorCodes)}`);
  console.log(ok ? "PASS" : "FAIL");
}
process.exit(ok ? 0 : 1);
