// Runs the original suite's flows against a running paymentctl with the
// original TypeScript SDK (payment-backend@4.0.0 lib/api) and prints one
// line per flow and the summary "N passed, N failed".
//
// Environment: TSCOMPAT_API, TSCOMPAT_IAMPORT, TSCOMPAT_TOSS (base URLs),
// PAYMENT_CONNECTION_ENCRYPTION_KEY / _IV (default: the original's),
// PAYMENT_WEBHOOK_SECRET (the server's webhook signing secret, whsec_…),
// TSCOMPAT_WAIT_MS (how long to wait for webhooks, default 15000),
// TSCOMPAT_API_KEY (a service's API key, sent as "Authorization: Bearer"
// through the connection's headers; the key and IV are then the service's).
// Arguments: substrings; only flows whose name contains one of them run.
import { errorFlows, fakeFlows, monitorFlows } from "./checks";
import { Context, describe, Options } from "./harness";
import * as iamport from "./iamport";
import { Receiver, verifySignature } from "./receiver";
import * as toss from "./toss";
import { Findings } from "./validate";

type Flow = [string, (ctx: Context) => Promise<unknown>];

function env(name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === "") throw new Error(`${name} is not set`);
  return v;
}

/** webhooksValid: every webhook the receiver got decrypted and passed typia. */
async function webhooksValid(ctx: Context): Promise<void> {
  const bad = ctx.receiver.bad();
  if (bad.length > 0)
    throw new Error(
      `${bad.length} of ${ctx.receiver.deliveries.length} forwarded webhooks rejected: ` +
        bad.map((d) => `${d.error} ${d.raw.slice(0, 800)}`).join("\n"),
    );
  if (ctx.receiver.deliveries.length === 0) throw new Error("no webhook was forwarded at all");
}

/**
 * webhookSignatures: every forwarded webhook passed the independent
 * Standard Webhooks verifier (the receiver checks each one as it arrives),
 * and the verifier is not lenient: an altered body, a wrong secret and a
 * second event's signature are refused.
 */
async function webhookSignatures(ctx: Context): Promise<void> {
  const all = ctx.receiver.deliveries;
  if (all.length === 0) throw new Error("no webhook was forwarded at all");
  const bad = all.filter((d) => d.error?.startsWith("Standard Webhooks signature"));
  if (bad.length > 0)
    throw new Error(`${bad.length} of ${all.length} forwarded webhooks failed verification: ${bad[0].error}`);
  const d = all[0];
  const refused = (what: string, f: () => void) => {
    try {
      f();
    } catch {
      return;
    }
    throw new Error(`the verifier accepted ${what}`);
  };
  const flipped = (d.received[0] === "A" ? "B" : "A") + d.received.slice(1);
  refused("an altered body", () => verifySignature(ctx.receiver.secret, flipped, d.headers));
  const otherSecret = "whsec_" + Buffer.alloc(32, 7).toString("base64");
  refused("a wrong secret", () => verifySignature(otherSecret, d.received, d.headers));
  const other = all.find((o) => o.headers["webhook-id"] !== d.headers["webhook-id"]);
  if (other)
    refused("another event's signature", () =>
      verifySignature(ctx.receiver.secret, d.received, { ...d.headers, "webhook-signature": other.headers["webhook-signature"] }),
    );
}

async function main(): Promise<number> {
  const options: Options = {
    api: env("TSCOMPAT_API"),
    iamport: env("TSCOMPAT_IAMPORT"),
    toss: env("TSCOMPAT_TOSS"),
    key: env("PAYMENT_CONNECTION_ENCRYPTION_KEY", "MCKOxv9B23r7EatArCFcBP03nfaS03T8"),
    iv: env("PAYMENT_CONNECTION_ENCRYPTION_IV", "9haeYD1tIf4v8xs7"),
    waitMs: Number(process.env.TSCOMPAT_WAIT_MS ?? 15_000),
    apiKey: process.env.TSCOMPAT_API_KEY || undefined,
  };
  const findings = new Findings();
  const receiver = new Receiver(options.key, options.iv, env("PAYMENT_WEBHOOK_SECRET"), findings);
  await receiver.open();
  const ctx = new Context(options, receiver, findings);

  const all: Flow[] = [
    ...monitorFlows,
    ...iamport.flows,
    ...toss.flows,
    ...errorFlows,
    ["forwarded_webhooks_valid", webhooksValid],
    ["forwarded_webhooks_standardwebhooks_verified", webhookSignatures],
    ...fakeFlows,
  ];
  const filters = process.argv.slice(2);
  const chosen = filters.length ? all.filter(([n]) => filters.some((f) => n.includes(f))) : all;

  let passed = 0;
  let failed = 0;
  const started = Date.now();
  for (const [name, fn] of chosen) {
    const t0 = Date.now();
    ctx.events.length = 0;
    try {
      await fn(ctx);
      passed++;
      console.log(`PASS ${name} (${Date.now() - t0} ms)`);
    } catch (err) {
      failed++;
      console.log(`FAIL ${name} (${Date.now() - t0} ms)\n${indent(describe(err, ctx.events))}`);
    }
  }
  await receiver.close();
  console.log(`elapsed ${Date.now() - started} ms, ${receiver.deliveries.length} webhooks received`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

function indent(s: string): string {
  return s
    .split("\n")
    .map((l) => "    " + l)
    .join("\n");
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    console.log("0 passed, 1 failed");
    process.exit(1);
  },
);
