// A client service's webhook receiver, as a user of the original would
// write one: it decrypts the text/plain body with the connection key/IV
// (with @nestia/fetcher's own AES code) and checks it is an
// IPaymentWebhookHistory. Before that it verifies the Standard Webhooks
// signature with the `standardwebhooks` package, an implementation
// independent of paymentctl's, and the secret `paymentctl config generate`
// printed (whsec_…).
import { AesPkcs5 } from "@nestia/fetcher/lib/AesPkcs5";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import typia from "typia";

import { Findings, render, split, WebhookHistory } from "./validate";

/** Delivery is one webhook the server forwarded to the receiver. */
export interface Delivery {
  contentType: string;
  /** the decrypted, validated body, or null when it failed */
  body: WebhookHistory | null;
  /** why the body was rejected, when it was */
  error: string | null;
  raw: string;
  /** the body as received, before decryption */
  received: string;
  /** the Standard Webhooks headers as received */
  headers: Record<string, string>;
}

/** verifySignature throws unless body and headers carry a valid signature. */
export function verifySignature(secret: string, body: string, headers: Record<string, string>): void {
  // The body is the encrypted text, not JSON: verify only.
  new Webhook(secret).verify(body, headers, { jsonParse: false });
}

const validateWebhook = typia.createValidate<WebhookHistory>();

export class Receiver {
  readonly deliveries: Delivery[] = [];
  private server: http.Server | null = null;
  private port = 0;

  constructor(
    private readonly key: string,
    private readonly iv: string,
    /** the webhook signing secret, whsec_… */
    readonly secret: string,
    private readonly findings: Findings,
  ) {}

  /** open listens on a free loopback port. */
  async open(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const headers: Record<string, string> = {};
        for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"])
          headers[name] = String(req.headers[name] ?? "");
        this.deliveries.push(this.receive(String(req.headers["content-type"] ?? ""), raw, headers));
        res.statusCode = 201;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (this.server) await new Promise((r) => this.server!.close(r));
  }

  /** url is the webhook_url to register with a payment. */
  url(): string {
    return `http://127.0.0.1:${this.port}/webhooks/payments`;
  }

  /** of returns the deliveries about one history, oldest first. */
  of(historyID: string): Delivery[] {
    return this.deliveries.filter(
      (d) => d.body?.current.id === historyID || (d.body === null && d.raw.includes(historyID)),
    );
  }

  /** bad returns the deliveries that failed to decrypt or validate. */
  bad(): Delivery[] {
    return this.deliveries.filter((d) => d.body === null);
  }

  private receive(contentType: string, received: string, headers: Record<string, string>): Delivery {
    const d = this.decode(contentType, received);
    const delivery = { ...d, received, headers };
    try {
      verifySignature(this.secret, received, headers);
    } catch (err) {
      return { ...delivery, body: null, error: `Standard Webhooks signature: ${String(err)}` };
    }
    return delivery;
  }

  private decode(contentType: string, raw: string): Omit<Delivery, "received" | "headers"> {
    let text: string;
    try {
      text = AesPkcs5.decrypt(raw, this.key, this.iv);
    } catch (err) {
      return { contentType, body: null, error: `decrypt: ${String(err)}`, raw };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return { contentType, body: null, error: `JSON: ${String(err)}`, raw: text };
    }
    const r = validateWebhook(parsed);
    if (r.success) return { contentType, body: r.data, error: null, raw: text };
    const { own, pg } = split(r.errors);
    const body = parsed as WebhookHistory;
    if (own.length > 0)
      return { contentType, body: null, error: `not an IPaymentWebhookHistory: ${render(own)}`, raw: text };
    this.findings.record(body.current.vendor_code, "paymentctl forwarded webhook: data", pg);
    return { contentType, body, error: null, raw: text };
  }
}
