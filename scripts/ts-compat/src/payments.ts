// Steps shared by the Iamport and Toss flows: registering a payment or a
// saved card through the original SDK, reading it back, the cancel
// validators of the original suite and the webhook checks.
import api from "payment-backend/lib/api";
import type { IPaymentCancelHistory } from "payment-backend/lib/api/structures/payments/IPaymentCancelHistory";
import type { IPaymentHistory } from "payment-backend/lib/api/structures/payments/IPaymentHistory";
import type { IPaymentReservation } from "payment-backend/lib/api/structures/payments/IPaymentReservation";
import type { IPaymentSource } from "payment-backend/lib/api/structures/payments/IPaymentSource";
import type { IPaymentVendor } from "payment-backend/lib/api/structures/payments/IPaymentVendor";
import typia from "typia";

import { check, Context, equal, PASSWORD, poll } from "./harness";
import type { Delivery } from "./receiver";
import type { History, Relaxed, WebhookHistory } from "./validate";

export type { History };
type Snapshot = History | WebhookHistory["current"];

/**
 * status checks the HTTP status of the last SDK call and, for an encrypted
 * response with a body, that it came as text/plain like the original's.
 */
export function status(ctx: Context, want: number): void {
  const e = ctx.events[ctx.events.length - 1];
  check(e !== undefined, "no SDK request was recorded");
  equal(e.status, want, `status of ${e.route.method} ${e.path}`);
  if (e.route.response?.encrypted && e.output !== undefined && e.output !== "")
    check(
      e.contentType?.startsWith("text/plain"),
      `Content-Type of ${e.route.method} ${e.path}: ${e.contentType}, want text/plain`,
    );
}

/** assertHistory is typia's check of a history of the given vendor. */
export function assertHistory(ctx: Context, code: IPaymentVendor.Code, h: unknown): History {
  return code === "iamport"
    ? ctx.server("history", code, typia.validate<Relaxed<IPaymentHistory.IamportType>>(h), h)
    : ctx.server("history", code, typia.validate<Relaxed<IPaymentHistory.TossType>>(h), h);
}

/** assertReservation is typia's check of a saved card of the given vendor. */
export function assertReservation(ctx: Context, code: IPaymentVendor.Code, r: unknown): IPaymentReservation {
  return code === "iamport"
    ? ctx.server("reservation", code, typia.validate<IPaymentReservation.IamportType>(r), r)
    : ctx.server("reservation", code, typia.validate<IPaymentReservation.TossType>(r), r);
}

/**
 * register stores a payment with the SDK's `histories.store`, then reads
 * it back with `at` and `get`, checking each with typia and comparing them.
 */
export async function register(
  ctx: Context,
  vendor: IPaymentVendor<IPaymentVendor.Code>,
  src: IPaymentSource,
  price: number,
  webhookURL: string,
): Promise<History> {
  const created = assertHistory(
    ctx,
    vendor.code,
    await api.functional.payments.histories.store(ctx.api, {
      vendor,
      source: src,
      price,
      password: PASSWORD,
      webhook_url: webhookURL,
    }),
  );
  status(ctx, 201);
  equal(created.vendor_code, vendor.code, "vendor_code");
  equal(created.vendor.uid, vendor.uid, "vendor.uid");
  equal(created.vendor.store_id, vendor.store_id, "vendor.store_id");
  equal(created.source.id, src.id, "source.id");
  equal(created.price, price, "price");
  equal(created.webhook_url, webhookURL, "webhook_url");
  check(created.cancels.length === 0, "a new history has no cancels");
  equal(created.refund, null, "refund of a new history");

  const at = assertHistory(
    ctx,
    vendor.code,
    await api.functional.payments.histories.at(ctx.api, created.id, { password: PASSWORD }),
  );
  status(ctx, 200);
  const got = assertHistory(
    ctx,
    vendor.code,
    await api.functional.payments.histories.get(ctx.api, { ...src, password: PASSWORD }),
  );
  status(ctx, 200);
  for (const h of [at, got]) {
    equal(h.id, created.id, "id read back");
    equal(h.created_at, created.created_at, "created_at read back");
    equal(h.paid_at, created.paid_at, "paid_at read back");
    equal(JSON.stringify(h.data), JSON.stringify(created.data), "data read back");
  }
  return got;
}

/** reserve stores a saved card and reads it back with `at` and `get`. */
export async function reserve(
  ctx: Context,
  vendor: IPaymentVendor<IPaymentVendor.Code>,
  src: IPaymentSource,
): Promise<IPaymentReservation> {
  const assert = (r: unknown) => assertReservation(ctx, vendor.code, r);
  const created = assert(
    await api.functional.payments.reservations.store(ctx.api, {
      vendor,
      source: src,
      title: "some-title",
      password: PASSWORD,
    }),
  );
  status(ctx, 201);
  equal(created.vendor_code, vendor.code, "vendor_code");
  equal(created.vendor.uid, vendor.uid, "vendor.uid");
  equal(created.source.id, src.id, "source.id");
  equal(created.title, "some-title", "title");
  const at = assert(
    await api.functional.payments.reservations.at(ctx.api, created.id, { password: PASSWORD }),
  );
  status(ctx, 200);
  const got = assert(
    await api.functional.payments.reservations.get(ctx.api, { ...src, password: PASSWORD }),
  );
  status(ctx, 200);
  for (const r of [at, got]) {
    equal(r.id, created.id, "id read back");
    equal(r.created_at, created.created_at, "created_at read back");
    equal(JSON.stringify(r.data), JSON.stringify(created.data), "data read back");
  }
  return got;
}

/**
 * delivery waits until the receiver holds a forwarded webhook about the
 * history that satisfies ok, and returns it.
 */
export async function delivery(
  ctx: Context,
  historyID: string,
  what: string,
  ok: (d: WebhookHistory) => boolean,
): Promise<WebhookHistory> {
  const found = await poll(
    ctx.options.waitMs,
    async () => ctx.receiver.of(historyID),
    (ds) => ds.some((d) => d.body !== null && ok(d.body)),
  );
  const hit = found.find((d) => d.body !== null && ok(d.body));
  if (hit?.body) {
    check(
      hit.contentType.startsWith("text/plain"),
      `forwarded webhook Content-Type ${JSON.stringify(hit.contentType)}, want text/plain`,
    );
    equal(hit.body.current.id, historyID, "webhook current.id");
    equal(hit.body.id === hit.body.current.id, false, "webhook id is the webhook's own id, not the history's");
    return hit.body;
  }
  throw new Error(
    `no forwarded webhook ${what} for history ${historyID} within ${ctx.options.waitMs} ms; ` +
      `got ${found.length}: ${found.map(summary).join("; ")}`,
  );
}

function summary(d: Delivery): string {
  if (d.body === null) return `rejected (${d.error}) ${d.raw.slice(0, 600)}`;
  const c = d.body.current;
  return `{paid_at: ${c.paid_at}, cancelled_at: ${c.cancelled_at}, refund: ${c.refund}, cancels: ${c.cancels.length}}`;
}

/** paidByDeposit is the vbank check after the fake's deposit. */
export async function paidByDeposit(ctx: Context, h: History): Promise<void> {
  equal(h.paid_at, null, "paid_at of an unpaid virtual account");
  const after = await poll(
    ctx.options.waitMs,
    async () =>
      assertHistory(
        ctx,
        h.vendor_code,
        await api.functional.payments.histories.at(ctx.api, h.id, { password: PASSWORD }),
      ),
    (x) => x.paid_at !== null,
  );
  check(after.paid_at !== null, `paid_at still null ${ctx.options.waitMs} ms after the deposit`);
  const hook = await delivery(ctx, h.id, "with current.paid_at set", (w) => w.current.paid_at !== null);
  check(!hook.previous.paid_at, `webhook previous.paid_at = ${hook.previous.paid_at}, want null`);
  equal(hook.source.id, h.source.id, "webhook source.id");
}

type Account = IPaymentCancelHistory.IBankAccount | null;

function cancelled(h: Snapshot, count: number, refunded: number, what: string): void {
  check(h.cancelled_at !== null, `${what}: cancelled_at is null`);
  equal(h.cancels.length, count, `${what}: cancels.length`);
  equal(
    h.cancels.reduce((sum, c) => sum + c.price, 0),
    refunded,
    `${what}: sum of cancels[].price`,
  );
  equal(h.refund, refunded, `${what}: refund`);
}

/** cancelFull is the original's validate_payment_cancel. */
export async function cancelFull(ctx: Context, h: History, account: Account): Promise<void> {
  equal(h.cancelled_at, null, "cancelled_at before the cancel");
  equal(h.cancels.length, 0, "cancels before the cancel");
  equal(h.refund, null, "refund before the cancel");
  const res = assertHistory(
    ctx,
    h.vendor_code,
    await api.functional.payments.histories.cancel(ctx.api, {
      source: h.source,
      password: PASSWORD,
      price: h.price,
      reason: "some-reason",
      account,
    }),
  );
  status(ctx, 200);
  cancelled(res, 1, h.price, "cancel response");
  equal(res.cancels[0].reason, "some-reason", "cancels[0].reason");
  const hook = await delivery(ctx, h.id, `with refund ${h.price}`, (w) => w.current.refund === h.price);
  cancelled(hook.current, 1, h.price, "webhook current");
  const again = assertHistory(
    ctx,
    h.vendor_code,
    await api.functional.payments.histories.at(ctx.api, h.id, { password: PASSWORD }),
  );
  cancelled(again, 1, h.price, "re-read");
}

/** cancelPartial is the original's validate_payment_cancel_partial. */
export async function cancelPartial(ctx: Context, h: History, account: Account): Promise<void> {
  const piece = h.price / 5;
  check(Number.isInteger(piece), `price ${h.price} does not split in five`);
  for (let i = 1; i <= 5; i++) {
    const res = assertHistory(
      ctx,
      h.vendor_code,
      await api.functional.payments.histories.cancel(ctx.api, {
        source: h.source,
        password: PASSWORD,
        price: piece,
        reason: `some-reason-${i}`,
        account,
      }),
    );
    status(ctx, 200);
    cancelled(res, i, piece * i, `cancel #${i} response`);
    const hook = await delivery(
      ctx,
      h.id,
      `with ${i} cancels`,
      (w) => w.current.cancels.length === i,
    );
    cancelled(hook.current, i, piece * i, `cancel #${i} webhook current`);
  }
  const final = assertHistory(
    ctx,
    h.vendor_code,
    await api.functional.payments.histories.at(ctx.api, h.id, { password: PASSWORD }),
  );
  cancelled(final, 5, h.price, "re-read after five cancels");
}
