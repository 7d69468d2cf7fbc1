// Web Push sending (issue #9): VAPID keys and subject, payload encryption, the SSRF-guarded
// client and the sender. Nothing here knows about groups, calls or the hub.
export { DEFAULT_PUSH_HOSTS, MAX_ENDPOINT_LENGTH, checkEndpointUrl, hostAllowed, hostPatternProblem, type PushTransport } from "./endpoint-guard.ts";
export { MAX_PLAINTEXT_BYTES } from "./payload-cipher.ts";
export { NO_ROUTE, PUSH_PROBE_TARGETS, probePushReachability, type ProbeTarget, type ReachabilityResult } from "./push-reachability.ts";
export { MAX_TTL_SECONDS, createPushSender, type PushFailure, type PushSender, type PushSenderOptions, type PushStats, type SendOptions, type SendResult, type Urgency } from "./push-sender.ts";
export { checkSubscription, type CheckedSubscription, type StoredSubscription } from "./subscription-check.ts";
export { VAPID_FILE, VapidKeyError, loadOrCreateVapidKeys, readVapidPublicKey, type LoadedVapidKeys, type VapidKeys } from "./vapid-keys.ts";
export { parseSubject, vapidSubject, type SubjectResult, type SubjectSources } from "./vapid-subject.ts";
