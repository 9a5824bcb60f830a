import { generate } from "selfsigned";

/**
 * The simulator's TLS certificate: self-signed, for localhost, 127.0.0.1 and ::1, generated once
 * per process and shared by the SMTP server (STARTTLS) and the push service (HTTPS). Clients
 * must trust it explicitly (tests pass it as their CA) or not verify it.
 */
let certificate: Promise<{ key: string; cert: string }> | null = null;

export function localCertificate(): Promise<{ key: string; cert: string }> {
  certificate ??= generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }, {
          type: 7,
          ip: "::1",
        }],
      },
    ],
  }).then((pems) => ({ key: pems.private, cert: pems.cert }), (error) => {
    certificate = null;
    throw error;
  });
  return certificate;
}
