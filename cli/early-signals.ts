// The first module cli/main.ts evaluates: it catches SIGHUP before anything else runs. systemd
// (ExecReload), the renewal timer and `cert renew` send SIGHUP to mean "re-read the
// certificate"; one that arrives while the server is still starting (restart then reload within
// a fraction of a second) would otherwise meet the default action, end the process with a clean
// exit, and Restart=on-failure would leave the service dead. Until `serve` takes over, a SIGHUP
// is only remembered. Kept free of imports so that nothing is evaluated before the handler.

let pending = false;
let handler: (() => void) | null = null;

process.on("SIGHUP", () => {
  if (handler) handler();
  else pending = true;
});

/** serve's reload handler; a SIGHUP that came before it is delivered now, once. */
export function onReloadSignal(fn: () => void): void {
  handler = fn;
  if (pending) {
    pending = false;
    fn();
  }
}
