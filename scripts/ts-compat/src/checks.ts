// Monitors (test/features/monitors) and the error statuses a client of the
// original relies on: each through the original SDK, which must throw its
// HttpError with the right status.
import api from "payment-backend/lib/api";
import type { IPerformance } from "payment-backend/lib/api/structures/monitors/IPerformance";
import type { ISystem } from "payment-backend/lib/api/structures/monitors/ISystem";
import imp from "iamport-server-api";
import { randomUUID } from "node:crypto";
import typia from "typia";

import { check, Context, equal, IAMPORT_STORE_ID, PASSWORD, rejects, sleep, source } from "./harness";
import * as iamport from "./iamport";
import { assertHistory, assertReservation, status } from "./payments";
import * as toss from "./toss";
import { render, Vendor } from "./validate";

async function health(ctx: Context): Promise<void> {
  const out = await api.functional.monitors.health.get(ctx.api);
  status(ctx, 200);
  equal(out, undefined, "health body");
}

async function system(ctx: Context): Promise<void> {
  const out = await api.functional.monitors.system.get(ctx.api);
  const r = typia.validate<ISystem>(out);
  check(r.success, `ISystem: ${r.success ? "" : render(r.errors, 100)}`);
  const s = out as ISystem;
  status(ctx, 200);
  check(!Number.isNaN(Date.parse(s.created_at)), `created_at ${s.created_at} is not a date`);
}

async function performance(ctx: Context): Promise<void> {
  const out = await api.functional.monitors.performance.get(ctx.api);
  const r = typia.validate<IPerformance>(out);
  check(r.success, `IPerformance: ${r.success ? "" : render(r.errors)}`);
  const p = out as IPerformance;
  status(ctx, 200);
  check(p.memory.rss > 0, "memory.rss > 0");
}

async function wrongPassword(ctx: Context): Promise<void> {
  const h = await iamport.cardPayment(ctx);
  const wrong = "wrong-password";
  await rejects("histories.at", 403, () => api.functional.payments.histories.at(ctx.api, h.id, { password: wrong }));
  await rejects("histories.get", 403, () =>
    api.functional.payments.histories.get(ctx.api, { ...h.source, password: wrong }),
  );
  await rejects("histories.cancel", 403, () =>
    api.functional.payments.histories.cancel(ctx.api, {
      source: h.source,
      password: wrong,
      price: h.price,
      reason: "some-reason",
      account: null,
    }),
  );
  const r = await reserveIamport(ctx);
  await rejects("reservations.at", 403, () =>
    api.functional.payments.reservations.at(ctx.api, r.id, { password: wrong }),
  );
  await rejects("reservations.get", 403, () =>
    api.functional.payments.reservations.get(ctx.api, { ...r.source, password: wrong }),
  );
}

async function unknownID(ctx: Context): Promise<void> {
  const id = randomUUID();
  await rejects("histories.at", 404, () => api.functional.payments.histories.at(ctx.api, id, { password: PASSWORD }));
  await rejects("histories.get", 404, () =>
    api.functional.payments.histories.get(ctx.api, { ...source(), password: PASSWORD }),
  );
  await rejects("histories.cancel", 404, () =>
    api.functional.payments.histories.cancel(ctx.api, {
      source: source(),
      password: PASSWORD,
      price: 1000,
      reason: "some-reason",
      account: null,
    }),
  );
  await rejects("reservations.at", 404, () =>
    api.functional.payments.reservations.at(ctx.api, id, { password: PASSWORD }),
  );
  await rejects("reservations.get", 404, () =>
    api.functional.payments.reservations.get(ctx.api, { ...source(), password: PASSWORD }),
  );
}

async function duplicate(ctx: Context): Promise<void> {
  const h = await iamport.cardPayment(ctx);
  const input = {
    vendor: h.vendor,
    source: h.source,
    price: h.price,
    password: PASSWORD,
    webhook_url: ctx.internalWebhookURL,
  };
  await rejects("histories.store twice", 409, () => api.functional.payments.histories.store(ctx.api, input));
  const r = await reserveIamport(ctx);
  await rejects("reservations.store twice", 409, () =>
    api.functional.payments.reservations.store(ctx.api, {
      vendor: r.vendor,
      source: r.source,
      title: "some-title",
      password: PASSWORD,
    }),
  );
}

/** amountMismatch: a wrong price is refused with 422 and the PG payment is cancelled. */
async function amountMismatch(ctx: Context): Promise<void> {
  const src = source();
  const conn = await ctx.iamport();
  const paid = await imp.functional.subscribe.payments.onetime(conn, {
    card_number: "1234-1234-1234-1234",
    expiry: "2028-12",
    birth: "880311",
    merchant_uid: src.id,
    amount: 20_000,
    name: "Fake 주문",
  });
  const uid = paid.response.imp_uid;
  await rejects("histories.store with a wrong price", 422, () =>
    api.functional.payments.histories.store(ctx.api, {
      vendor: { code: "iamport", store_id: IAMPORT_STORE_ID, uid },
      source: src,
      price: 10_000,
      password: PASSWORD,
      webhook_url: ctx.internalWebhookURL,
    }),
  );
  const after = await imp.functional.payments.at(conn, uid, {});
  ctx.fake("iamport", "GET /payments/:imp_uid", typia.validate<imp.functional.payments.at.Output>(after), after);
  equal(after.response.status, "cancelled", "fake Iamport payment status after the mismatch");
}

/** invalid: typia-style validation of the original gives 400. */
async function invalid(ctx: Context): Promise<void> {
  await rejects("histories.at with a non-uuid id", 400, () =>
    api.functional.payments.histories.at(ctx.api, "not-a-uuid" as string, { password: PASSWORD }),
  );
  const base = {
    vendor: { code: "iamport" as const, store_id: IAMPORT_STORE_ID, uid: "imp_000000000000" },
    source: source(),
    price: 1000,
    password: PASSWORD,
    webhook_url: ctx.internalWebhookURL,
  };
  await rejects("histories.store with a negative price", 400, () =>
    api.functional.payments.histories.store(ctx.api, { ...base, price: -1 }),
  );
  await rejects("histories.store with a non-uuid source.id", 400, () =>
    api.functional.payments.histories.store(ctx.api, { ...base, source: { ...base.source, id: "order-1" } }),
  );
  await rejects("histories.store with an unknown vendor", 400, () =>
    api.functional.payments.histories.store(ctx.api, {
      ...base,
      vendor: { ...base.vendor, code: "paypal" as "iamport" },
    }),
  );
}

/**
 * internalReceiver: a webhook our server forwarded, posted back through
 * the SDK's payments.internal.webhook, is accepted by the server's own
 * test receiver (the route the original's tests use as webhook_url), and
 * a body that is not an IPaymentWebhookHistory is refused with 400.
 *
 * The route returns void. The original (@nestia/core 2.0.4
 * EncryptedRouteInterceptor) then sends an empty text/plain body, and the
 * 4.0.0 SDK's EncryptedFetcher runs AesPkcs5.decrypt("") on it, which
 * throws "wrong final block length": the original SDK cannot call this
 * route without throwing, against the original server too. So the check
 * accepts that one error when the server answered 201 with an empty body,
 * and equally a resolved "" (an encrypted empty string).
 */
async function internalReceiver(ctx: Context): Promise<void> {
  const seen = ctx.receiver.deliveries.find((d) => d.body !== null);
  check(seen?.body, "no forwarded webhook received yet (run after the vbank flows)");
  try {
    const out = await api.functional.payments.internal.webhook(ctx.api, seen.body as never);
    equal(out as unknown, "", "internal webhook response body");
  } catch (err) {
    const e = ctx.events[ctx.events.length - 1];
    const emptyBody = e?.status === 201 && (e.output === undefined || e.output === "");
    if (!(err instanceof Error && /wrong final block length/.test(err.message) && emptyBody)) throw err;
  }
  status(ctx, 201);
  await rejects("internal.webhook with a body that is not an IPaymentWebhookHistory", 400, () =>
    api.functional.payments.internal.webhook(ctx.api, { id: "x" } as never),
  );
}

/**
 * pgWebhookRoutes: the SDK's plain-JSON PG webhook routes answer 201, and a
 * forged body changes nothing, since the server re-fetches from the PG.
 */
async function pgWebhookRoutes(ctx: Context): Promise<void> {
  const i = await iamport.cardPayment(ctx, ctx.receiver.url());
  await api.functional.payments.webhooks.iamport(ctx.api, {
    imp_uid: i.vendor.uid,
    merchant_uid: i.source.id,
    status: "cancelled",
  });
  status(ctx, 201);
  const t = await toss.cardPayment(ctx, ctx.receiver.url());
  await api.functional.payments.webhooks.toss(ctx.api, {
    eventType: "PAYMENT_STATUS_CHANGED",
    data: { paymentKey: t.vendor.uid, orderId: t.source.id, status: "CANCELED" },
  });
  // The original answers 201 (Nest's POST default); paymentctl answers 200
  // on purpose, because the real Toss retries on anything but 200. The SDK
  // takes both (EncryptedFetcher/PlainFetcher succeed on 200 and 201).
  const e = ctx.events[ctx.events.length - 1];
  check(e?.status === 200 || e?.status === 201, `status of POST /payments/webhooks/toss: ${e?.status}, want 200 or 201`);
  await sleep(500);
  for (const h of [i, t]) {
    const now = assertHistory(
      ctx,
      h.vendor_code,
      await api.functional.payments.histories.at(ctx.api, h.id, { password: PASSWORD }),
    );
    equal(now.cancelled_at, null, `${h.vendor_code} cancelled_at after a forged webhook`);
    equal(now.cancels.length, 0, `${h.vendor_code} cancels after a forged webhook`);
  }
}

async function reserveIamport(ctx: Context) {
  const src = source();
  await imp.functional.subscribe.customers.create(await ctx.iamport(), src.id, {
    customer_uid: src.id,
    card_number: "1234-5678-1234-5678",
    expiry: "2028-12",
    birth: "880311",
  });
  const r = await api.functional.payments.reservations.store(ctx.api, {
    vendor: { code: "iamport", store_id: IAMPORT_STORE_ID, uid: src.id },
    source: src,
    title: "some-title",
    password: PASSWORD,
  });
  return assertReservation(ctx, "iamport", r);
}

/** fakeTypes fails when a fake's output differed from its published SDK's types. */
function fakeTypes(vendor: Vendor, sdk: string) {
  return async (ctx: Context): Promise<void> => {
    const found = ctx.findings.of(vendor);
    if (found.length > 0)
      throw new Error(
        `${found.length} place(s) where the fake's output is not what ${sdk} declares:\n` +
          found.map((f) => `${f.where} ${f.path}: expected ${f.expected}, got ${f.value}`).join("\n"),
      );
  };
}

export const fakeFlows: [string, (ctx: Context) => Promise<unknown>][] = [
  ["fake_iamport_matches_iamport-server-api", fakeTypes("iamport", "iamport-server-api@10.0.0")],
  ["fake_toss_matches_toss-payments-server-api", fakeTypes("toss.payments", "toss-payments-server-api@10.0.0")],
];

export const monitorFlows: [string, (ctx: Context) => Promise<unknown>][] = [
  ["test_api_monitor_health_check", health],
  ["test_api_monitor_system", system],
  ["test_api_monitor_performance", performance],
];

export const errorFlows: [string, (ctx: Context) => Promise<unknown>][] = [
  ["error_wrong_password_403", wrongPassword],
  ["error_unknown_id_404", unknownID],
  ["error_duplicate_409", duplicate],
  ["error_amount_mismatch_422", amountMismatch],
  ["error_validation_400", invalid],
  ["internal_webhook_receiver", internalReceiver],
  ["pg_webhook_routes_forged_body", pgWebhookRoutes],
];
