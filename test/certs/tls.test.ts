import tls from "node:tls";
import { afterEach, describe, expect, test } from "vitest";
import { createCA, generateSelfSigned, issueServerCertificate } from "../../certs/index.ts";

interface HandshakeResult {
  authorized: boolean;
  error?: string;
  body?: string;
}

/**
 * A real TLS client: connects to 127.0.0.1:port, verifies against `ca` only
 * (or the default roots when omitted), sends one HTTP/1.1 request and returns
 * the response body — or the verification error.
 */
function httpsGetVerified(port: number, opts: { ca?: string; servername?: string }): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      ca: opts.ca,
      // Without a servername Node checks the certificate against the IP we dialled.
      servername: opts.servername,
      rejectUnauthorized: true,
      ALPNProtocols: ["http/1.1"],
    });
    let raw = "";
    socket.setEncoding("utf8");
    socket.on("secureConnect", () => {
      socket.write(`GET / HTTP/1.1\r\nHost: ${opts.servername ?? "127.0.0.1"}\r\nConnection: close\r\n\r\n`);
    });
    socket.on("data", (chunk: string) => {
      raw += chunk;
    });
    socket.on("end", () => {
      const body = raw.split("\r\n\r\n").slice(1).join("\r\n\r\n");
      resolve({ authorized: socket.authorized, body });
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      resolve({ authorized: false, error: err.code ?? err.message });
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error("timeout")));
  });
}

type Server = ReturnType<typeof Bun.serve>;
const servers: Server[] = [];

function serveTls(cert: string, key: string): Server {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", tls: { cert, key }, fetch: () => new Response("ok") });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop(true)));
});

describe("self-signed certificate in a real TLS handshake", () => {
  test("a client trusting the certificate verifies it for localhost and 127.0.0.1", async () => {
    const { certPem, keyPem } = await generateSelfSigned({ hostnames: ["localhost"], ips: ["127.0.0.1", "::1"] });
    const server = serveTls(certPem, keyPem);

    const viaName = await httpsGetVerified(server.port!, { ca: certPem, servername: "localhost" });
    expect(viaName).toMatchObject({ authorized: true, body: expect.stringContaining("ok") });

    const viaFetch = await fetch(`https://127.0.0.1:${server.port}/`, { tls: { ca: certPem } });
    expect(await viaFetch.text()).toBe("ok");
  });

  test("a name missing from the SANs is refused", async () => {
    const { certPem, keyPem } = await generateSelfSigned({ hostnames: ["localhost"], ips: ["127.0.0.1"] });
    const server = serveTls(certPem, keyPem);
    const result = await httpsGetVerified(server.port!, { ca: certPem, servername: "other.example" });
    expect(result.authorized).toBe(false);
    expect(result.error).toBeDefined();
  });
});

describe("private CA", () => {
  test("a client trusting only the CA verifies the issued certificate by name and by IP", async () => {
    const ca = await createCA();
    const leaf = await issueServerCertificate(ca, { hostnames: ["localhost"], ips: ["127.0.0.1", "::1"] });
    const server = serveTls(leaf.certPem, leaf.keyPem);

    const viaName = await httpsGetVerified(server.port!, { ca: ca.certPem, servername: "localhost" });
    expect(viaName).toMatchObject({ authorized: true, body: expect.stringContaining("ok") });

    const viaIp = await httpsGetVerified(server.port!, { ca: ca.certPem });
    expect(viaIp).toMatchObject({ authorized: true, body: expect.stringContaining("ok") });

    const viaFetch = await fetch(`https://127.0.0.1:${server.port}/`, { tls: { ca: ca.certPem } });
    expect(await viaFetch.text()).toBe("ok");
  });

  test("an IP missing from the SANs is refused even with the CA trusted", async () => {
    const ca = await createCA();
    const leaf = await issueServerCertificate(ca, { hostnames: ["localhost"], ips: ["10.0.0.1"] });
    const server = serveTls(leaf.certPem, leaf.keyPem);
    const result = await httpsGetVerified(server.port!, { ca: ca.certPem });
    expect(result).toMatchObject({ authorized: false, error: "ERR_TLS_CERT_ALTNAME_INVALID" });
  });

  test("a client trusting nothing fails the handshake", async () => {
    const ca = await createCA();
    const leaf = await issueServerCertificate(ca, { hostnames: ["localhost"], ips: ["127.0.0.1"] });
    const server = serveTls(leaf.certPem, leaf.keyPem);

    const result = await httpsGetVerified(server.port!, { servername: "localhost" });
    expect(result.authorized).toBe(false);
    expect(result.error).toMatch(/UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED|unable to get|UNABLE_TO_VERIFY/i);

    await expect(fetch(`https://127.0.0.1:${server.port}/`)).rejects.toThrow();
  });

  test("a client trusting a different CA fails the handshake", async () => {
    const [ca, otherCa] = await Promise.all([createCA(), createCA()]);
    const leaf = await issueServerCertificate(ca, { hostnames: ["localhost"], ips: ["127.0.0.1"] });
    const server = serveTls(leaf.certPem, leaf.keyPem);
    const result = await httpsGetVerified(server.port!, { ca: otherCa.certPem, servername: "localhost" });
    expect(result.authorized).toBe(false);
  });
});
