// The seven Iamport flows of the original suite (test/features/iamport),
// the fake driven with iamport-server-api, our server with the original
// payment SDK.
import imp from "iamport-server-api";
import typia from "typia";

import { check, Context, equal, IAMPORT_STORE_ID, source } from "./harness";
import { cancelFull, cancelPartial, History, paidByDeposit, register, reserve } from "./payments";

const VBANK_ACCOUNT = {
  bank: "신한은행",
  account: "110-123-456789",
  holder: "홍길동",
  mobile: "010-1234-5678",
};

/** cardPayment pays 20,000 by card at the fake and registers it. */
export async function cardPayment(ctx: Context, webhookURL = ctx.internalWebhookURL): Promise<History> {
  const src = source();
  const res = await imp.functional.subscribe.payments.onetime(await ctx.iamport(), {
    card_number: "1234-1234-1234-1234",
    expiry: "2028-12",
    birth: "880311",
    merchant_uid: src.id,
    amount: 20_000,
    name: "Fake 주문",
  });
  ctx.fake("iamport", "POST /subscribe/payments/onetime", typia.validate<imp.functional.subscribe.payments.onetime.Output>(res), res);
  equal(res.code, 0, "fake Iamport onetime code");
  const h = await register(
    ctx,
    { code: "iamport", store_id: IAMPORT_STORE_ID, uid: res.response.imp_uid },
    src,
    20_000,
    webhookURL,
  );
  check(h.paid_at !== null, "a card payment is paid at once");
  return h;
}

/** vbankPayment opens a virtual account of 19,900 and deposits into it. */
export async function vbankPayment(ctx: Context): Promise<History> {
  const src = source();
  const conn = await ctx.iamport();
  const res = await imp.functional.vbanks.create(conn, {
    merchant_uid: src.id,
    amount: 19_900,
    vbank_code: "SHINHAN",
    vbank_due: Math.floor(Date.now() / 1000) + 7 * 24 * 60 * 60,
    vbank_holder: "Samchon",
  });
  ctx.fake("iamport", "POST /vbanks", typia.validate<imp.functional.vbanks.create.Output>(res), res);
  equal(res.code, 0, "fake Iamport vbank code");
  const h = await register(
    ctx,
    { code: "iamport", store_id: IAMPORT_STORE_ID, uid: res.response.imp_uid },
    src,
    19_900,
    ctx.receiver.url(),
  );
  await imp.functional.internal.deposit(conn, res.response.imp_uid);
  await paidByDeposit(ctx, h);
  return h;
}

/** subscription registers a saved card (customer_uid = source.id). */
export async function subscription(ctx: Context): Promise<void> {
  const src = source();
  const res = await imp.functional.subscribe.customers.create(await ctx.iamport(), src.id, {
    customer_uid: src.id,
    card_number: "1234-5678-1234-5678",
    expiry: "2028-12",
    birth: "880311",
  });
  ctx.fake(
    "iamport",
    "POST /subscribe/customers/:customer_uid",
    typia.validate<imp.functional.subscribe.customers.create.Output>(res),
    res,
  );
  equal(res.code, 0, "fake Iamport customers code");
  const r = await reserve(ctx, { code: "iamport", store_id: IAMPORT_STORE_ID, uid: src.id }, src);
  check(r.vendor_code === "iamport" && r.data.customer_uid === src.id, "reservation data.customer_uid");
}

/** flows lists the Iamport flows under the original's test names. */
export const flows: [string, (ctx: Context) => Promise<unknown>][] = [
  ["test_api_iamport_card_payment", (ctx) => cardPayment(ctx)],
  ["test_api_iamport_card_payment_cancel", async (ctx) => cancelFull(ctx, await cardPayment(ctx, ctx.receiver.url()), null)],
  ["test_api_iamport_card_payment_cancel_partial", async (ctx) => cancelPartial(ctx, await cardPayment(ctx, ctx.receiver.url()), null)],
  ["test_api_iamport_subscription_payment", subscription],
  ["test_api_iamport_vbank_payment", vbankPayment],
  ["test_api_iamport_vbank_payment_cancel", async (ctx) => cancelFull(ctx, await vbankPayment(ctx), VBANK_ACCOUNT)],
  ["test_api_iamport_vbank_payment_cancel_partial", async (ctx) => cancelPartial(ctx, await vbankPayment(ctx), VBANK_ACCOUNT)],
];
