// The test context shared by every flow: connections built the way the
// original SDKs expect them, a small assertion vocabulary, and a record of
// the last requests so a failure can show what went over the wire.
import type { IConnection, IFetchEvent } from "@nestia/fetcher";
import { HttpError } from "payment-backend/lib/api";
import { IamportConnector } from "iamport-server-api";
import type { IConnection as IamportConnection } from "iamport-server-api";
import type { IConnection as TossConnection } from "toss-payments-server-api";
import { randomUUID } from "node:crypto";

import type { IValidation } from "typia";

import { Receiver } from "./receiver";
import { Findings, render, split, Vendor } from "./validate";

/** Event is a request of the payment SDK and the response's Content-Type. */
export interface Event extends IFetchEvent {
  contentType: string | null;
}

/** Constants of the original test suite (payments-backend.md §11). */
export const PASSWORD = "some-password";
export const IAMPORT_STORE_ID = "test-iamport-store-id";
export const TOSS_STORE_ID = "test-toss-payments-store-id";

/** Credentials of paymentctl's fakes in local mode. */
const IAMPORT_KEY = "test_imp_key";
const IAMPORT_SECRET = "test_imp_secret";
const TOSS_SECRET = "test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy";

export interface Options {
  api: string;
  iamport: string;
  toss: string;
  key: string;
  iv: string;
  /**
   * apiKey, when set, is sent as `Authorization: Bearer <apiKey>` through
   * the connection's `headers`, as a service of a server with
   * `services.list` configured calls it; key and iv are then that
   * service's.
   */
  apiKey?: string;
  /** how long to wait for asynchronous effects (webhooks) */
  waitMs: number;
}

/** Context is what a flow gets: the three connections and the receiver. */
export class Context {
  /** connection of the original payment SDK: `{host, encryption}` */
  readonly api: IConnection;
  /** connection of the fake Toss SDK (Basic auth with the secret key) */
  readonly toss: TossConnection;
  /** the original test suite's way to reach (fake) Iamport */
  readonly iamportConnector: IamportConnector;
  /** webhook_url of the server's own test receiver (§2 route 13) */
  readonly internalWebhookURL: string;
  /** requests made by the payment SDK, newest last */
  readonly events: Event[] = [];
  private contentType: string | null = null;

  constructor(
    readonly options: Options,
    readonly receiver: Receiver,
    readonly findings: Findings,
  ) {
    this.api = {
      host: options.api,
      encryption: { key: options.key, iv: options.iv },
      ...(options.apiKey ? { headers: { Authorization: `Bearer ${options.apiKey}` } } : {}),
      logger: async (e) => {
        this.events.push({ ...e, contentType: this.contentType });
        if (this.events.length > 8) this.events.shift();
      },
      // the SDK's own fetch, wrapped only to note the response Content-Type
      fetch: (async (input: string, init: unknown) => {
        this.contentType = null;
        const res = await fetch(input, init as RequestInit);
        this.contentType = res.headers.get("content-type");
        return res;
      }) as unknown as typeof fetch,
    };
    this.toss = {
      host: options.toss,
      headers: {
        Authorization: "Basic " + Buffer.from(TOSS_SECRET + ":").toString("base64"),
      },
    };
    this.iamportConnector = new IamportConnector(options.iamport, {
      imp_key: IAMPORT_KEY,
      imp_secret: IAMPORT_SECRET,
    });
    this.internalWebhookURL = options.api + "/payments/internal/webhook";
  }

  /**
   * server judges a response of our server: its own fields must match the
   * SDK's type; mismatches inside the PG's `data` are findings against the
   * fake of vendor.
   */
  server<T>(what: string, vendor: Vendor, r: IValidation<T>, value: unknown): T {
    if (r.success) return r.data;
    const { own, pg } = split(r.errors);
    this.findings.record(vendor, `paymentctl ${what}: data`, pg);
    if (own.length > 0)
      throw new AssertionError(`${what} does not match the SDK's type: ${render(own)}`);
    return value as T;
  }

  /** fake records where a fake's response differs from its SDK's type. */
  fake<T>(vendor: Vendor, where: string, r: IValidation<T>, value: unknown): T {
    if (!r.success) this.findings.record(vendor, where, r.errors);
    return value as T;
  }

  /** iamport returns a fresh authorised connection to the fake Iamport. */
  iamport(): Promise<IamportConnection> {
    return this.iamportConnector.get();
  }
}

/** source returns a fresh source record like the original tests use. */
export function source() {
  return { schema: "some-schema", table: "some-table", id: randomUUID() };
}

/** AssertionError is a failed expectation of a flow. */
export class AssertionError extends Error {}

export function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new AssertionError(message);
}

export function equal<T>(got: T, want: T, what: string): void {
  if (got !== want)
    throw new AssertionError(
      `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`,
    );
}

/**
 * rejects runs fn and expects the payment SDK to throw its HttpError with
 * the given status and a plain-JSON error body.
 */
export async function rejects(
  what: string,
  status: number,
  fn: () => Promise<unknown>,
): Promise<HttpError> {
  let value: unknown;
  try {
    value = await fn();
  } catch (err) {
    if (!(err instanceof HttpError))
      throw new AssertionError(`${what}: threw ${String(err)}, want HttpError ${status}`);
    equal(err.status, status, `${what}: HttpError.status`);
    const type = String(err.headers["content-type"] ?? "");
    check(
      type.includes("application/json"),
      `${what}: error Content-Type ${JSON.stringify(type)}, want application/json (errors are not encrypted)`,
    );
    let body: unknown;
    try {
      body = JSON.parse(err.message);
    } catch {
      throw new AssertionError(`${what}: error body is not JSON: ${err.message}`);
    }
    check(
      typeof body === "object" && body !== null && typeof (body as { message?: unknown }).message !== "undefined",
      `${what}: error body has no "message": ${err.message}`,
    );
    return err;
  }
  throw new AssertionError(`${what}: succeeded with ${JSON.stringify(value)?.slice(0, 300)}, want HttpError ${status}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * poll calls fn until it returns a value that satisfies ok or the wait
 * runs out; it returns the last value either way, so the caller asserts.
 */
export async function poll<T>(
  waitMs: number,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
): Promise<T> {
  const until = Date.now() + waitMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() >= until) return v;
    await sleep(100);
  }
}

/** describe renders an error and the last SDK requests for the report. */
export function describe(err: unknown, events: Event[]): string {
  const lines: string[] = [];
  if (err instanceof HttpError)
    lines.push(`HttpError ${err.status} on ${err.method} ${err.path}: ${err.message}`);
  else if (err instanceof Error) lines.push(err.stack ?? err.message);
  else lines.push(String(err));
  const last = events.slice(-3);
  for (const e of last)
    lines.push(
      `  request ${e.route.method} ${e.path} -> ${e.status} (${e.contentType ?? "no Content-Type"})\n` +
        `    input:  ${clip(e.input)}\n    output: ${clip(e.output)}`,
    );
  return lines.join("\n");
}

function clip(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  if (s === undefined) return "undefined";
  return s.length > 1500 ? s.slice(0, 1500) + "…" : s;
}
