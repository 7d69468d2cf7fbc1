// Whether this site may already use the microphone, asked without opening it: where it may, no
// prompt can come, so a call can be answered (or placed) while the microphone is still opening
// instead of after — opening it takes the browser from tens of milliseconds to half a second,
// the first time in a session more. "prompt", "denied" or a browser that cannot say (older
// Safari rejects the "microphone" name) keeps the safe order: microphone first.
/** The query answers in about a millisecond; a tap must not wait on one that never does. */
const ANSWER_WITHIN_MS = 200;

export async function micAlreadyAllowed(): Promise<boolean> {
  const asked = (async () => {
    try {
      const status = await navigator.permissions?.query({ name: "microphone" as PermissionName });
      return status?.state === "granted";
    } catch {
      return false;
    }
  })();
  // Some embedded browsers never answer the query: then the safe order, without a wait.
  return Promise.race([asked, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ANSWER_WITHIN_MS))]);
}
