export { CertificateError, type CertificateErrorCode } from "./errors.ts";
export { defaultNames, lanAddresses, machineHostnames, mergeNames, namesForCertDir, readExtraNames, sortNames, writeExtraNames, EXTRA_NAMES_FILE, type SubjectNames } from "./default-names.ts";
export { certificateCovers, type Sans } from "./name-coverage.ts";
export { generateSelfSigned, type SelfSignedOptions } from "./self-signed.ts";
export { inspectCertificate, type CertInfo } from "./inspect.ts";
export {
  ensureCertificate,
  writeCertificatePair,
  certificatePaths,
  CERT_FILE,
  KEY_FILE,
  type EnsureCertificateOptions,
} from "./store.ts";
export { validateCertificatePair } from "./import-check.ts";
export {
  createCA,
  issueServerCertificate,
  ensureCA,
  CA_DIR,
  CA_CERT_FILE,
  CA_KEY_FILE,
  type CertificateAuthority,
} from "./private-ca.ts";
export { MAX_SERVER_DAYS, type ServerCertificateOptions } from "./leaf-profile.ts";
