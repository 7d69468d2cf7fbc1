// @peculiar/x509 decorates its ASN.1 schemas at module load; without the
// metadata polyfill loaded first, parsing fails inside compiled binaries.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

// Bind the library to the runtime's WebCrypto explicitly rather than relying on
// its global sniffing, which differs between Bun, workers and the compiled binary.
x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
