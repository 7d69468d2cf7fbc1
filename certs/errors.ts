export type CertificateErrorCode =
  | "bad-pem"
  | "key-mismatch"
  | "expired"
  | "not-yet-valid"
  | "chain-order"
  | "unsupported-key"
  | "invalid-name"
  | "not-a-ca"
  | "unsafe-path"
  | "missing-file";

/** A certificate or key problem the operator can fix; `message` is one sentence meant for them. */
export class CertificateError extends Error {
  readonly code: CertificateErrorCode;

  constructor(code: CertificateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CertificateError";
    this.code = code;
  }
}
