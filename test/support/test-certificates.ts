// Certificates for TLS tests, made at test time with node:crypto alone (no openssl CLI, no
// dependency): a CA, and a server certificate it signed for 127.0.0.1 and localhost. Just enough
// DER to build X.509 v3 certificates with ECDSA P-256 keys; nothing here is a product path.
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

const length = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
const oid = (dotted: string): Buffer => {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const bytes = [a! * 40 + b!];
  for (const n of rest) {
    const group = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) group.unshift(0x80 | (v & 0x7f));
    bytes.push(...group);
  }
  return tlv(0x06, Buffer.from(bytes));
};
const positiveInteger = (bytes: Buffer) => tlv(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
const utcTime = (date: Date) => tlv(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-:T]/g, "")}Z`));
const commonName = (cn: string) => sequence(tlv(0x31, sequence(oid("2.5.4.3"), tlv(0x0c, Buffer.from(cn)))));
const extension = (id: string, critical: boolean, value: Buffer) => sequence(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
const ECDSA_SHA256 = sequence(oid("1.2.840.10045.4.3.2"));

const certificate = (o: { subject: string; issuer: string; publicKey: KeyObject; signingKey: KeyObject; ca: boolean }): string => {
  const now = Date.now();
  const extensions = [extension("2.5.29.19", true, o.ca ? sequence(tlv(0x01, Buffer.from([0xff]))) : sequence())];
  if (!o.ca) extensions.push(extension("2.5.29.17", false, sequence(tlv(0x82, Buffer.from("localhost")), tlv(0x87, Buffer.from([127, 0, 0, 1])))));
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    positiveInteger(randomBytes(12)),
    ECDSA_SHA256,
    commonName(o.issuer),
    sequence(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 24 * 3600_000))),
    commonName(o.subject),
    o.publicKey.export({ type: "spki", format: "der" }),
    tlv(0xa3, sequence(...extensions)),
  );
  const der = sequence(tbs, ECDSA_SHA256, tlv(0x03, Buffer.from([0]), sign("sha256", tbs, o.signingKey)));
  return `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`.replace("\n\n", "\n");
};

export interface TestCertificates {
  /** The CA a client trusts (PEM). */
  readonly ca: string;
  /** The server's certificate for 127.0.0.1 and localhost (PEM) and its private key (PKCS#8 PEM). */
  readonly cert: string;
  readonly key: string;
}

export const makeTestCertificates = (): TestCertificates => {
  const ca = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const server = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const caName = "palmline test CA";
  return {
    ca: certificate({ subject: caName, issuer: caName, publicKey: ca.publicKey, signingKey: ca.privateKey, ca: true }),
    cert: certificate({ subject: "palmline test node", issuer: caName, publicKey: server.publicKey, signingKey: ca.privateKey, ca: false }),
    key: server.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
};
